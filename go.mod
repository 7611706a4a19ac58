module github.com/torget/torget

go 1.26.8

require github.com/go-fed/activity v1.0.0
