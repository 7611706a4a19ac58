module github.com/torget/torget

go 1.26.8
