package markup

import (
	"strings"
	"testing"
)

func TestSanitizeRemote(t *testing.T) {
	in := `<p onclick="x()">Hej <script>alert(1)</script><a href="javascript:alert(1)">bad</a> <a href="https://ex.org/a" rel="me" target="_blank">ok</a> <img src="https://ex.org/t.png"> <span class="h-card"><a class="u-url mention" href="https://m.example/@a">@a</a></span> :blob: <code>:blob:</code></p><style>p{}</style><iframe src="https://x"></iframe><ul><li><em>e</em></li></ul>`
	out := SanitizeRemote(in, RemoteEmoji{":blob:": "/media/proxy?u=x"})
	for _, bad := range []string{"script", "alert", "javascript", "onclick", "<img src=\"https://ex.org", "iframe", "style", "target", `rel="me"`} {
		if strings.Contains(out, bad) {
			t.Errorf("kept %q: %s", bad, out)
		}
	}
	for _, good := range []string{`<a rel="nofollow ugc noopener" href="https://ex.org/a">ok</a>`, `class="u-url mention"`,
		`<img class="emoji" src="/media/proxy?u=x" alt=":blob:"`, `<code>:blob:</code>`, `<li><em>e</em></li>`} {
		if !strings.Contains(out, good) {
			t.Errorf("missing %q: %s", good, out)
		}
	}
	if n := strings.Count(out, `class="emoji"`); n != 1 {
		t.Errorf("%d emoji images, want 1 (not inside code): %s", n, out)
	}
	if got := PlainText(`<p>a &amp; b</p><p>c<br>d</p>`); got != "a & b c d" {
		t.Errorf("PlainText = %q", got)
	}
}
