package snapshot

import (
	"strings"
	"testing"
)

func TestCSSURLs(t *testing.T) {
	css := `@import "print.css"; body{background:url( '/static/bg.png' )} .i{background:url(icons/a.svg#x)}
	.d{background:url(data:image/png;base64,AAAA)} @font-face{src:url("https://other.example/f.woff2")}`
	got := strings.Join(cssURLs("https://s.example/static/site.css", []byte(css)), " ")
	want := "https://s.example/static/print.css https://s.example/static/bg.png https://s.example/static/icons/a.svg https://other.example/f.woff2"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestSrcset(t *testing.T) {
	if got := strings.Join(srcset("/a.png 1x, /b.png 2x,/c.png"), " "); got != "/a.png /b.png /c.png" {
		t.Fatal(got)
	}
}
