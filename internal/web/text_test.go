package web

import "testing"

func TestParseHandle(t *testing.T) {
	for in, want := range map[string]string{
		"anna@mastodon.example":             "anna@mastodon.example",
		"@Anna_B@Social.Example.SE":         "Anna_B@social.example.se",
		"a.b-c@x.se:8443":                   "a.b-c@x.se:8443",
		"anna@127.0.0.1:443":                "anna@127.0.0.1:443",
		"anna@localhost":                    "anna@localhost",
		"anna":                              "",
		"anna@":                             "",
		"@anna":                             "",
		"anna@x":                            "",
		"anna@x..se":                        "",
		"anna@-x.se":                        "",
		"anna@x-.se":                        "",
		"anna@x.se:0":                       "",
		"anna@x.se:65536":                   "",
		"anna.@x.se":                        "",
		"acct:anna@x.se":                    "",
		"anna@x.se/":                        "",
		"anna@x.se#f":                       "",
		"an na@x.se":                        "",
		"anna@x.se@y.se":                    "",
		"<b>@x.se":                          "",
		"anna@xn--sterlen-6za.se":           "anna@xn--sterlen-6za.se",
		"anna@österlen.se":                  "",
		"anna@" + string(make([]byte, 300)): "",
	} {
		u, h, ok := parseHandle(in)
		got := ""
		if ok {
			got = u + "@" + h
		}
		if got != want {
			t.Errorf("parseHandle(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPlainTextAndClip(t *testing.T) {
	h := "<p>Första <strong>raden</strong> &amp; mer</p><p>Andra</p>"
	if got := plainText(h); got != "Första raden & mer\nAndra" {
		t.Fatalf("plainText = %q", got)
	}
	if got := clip(firstLine(plainText(h)), 80); got != "Första raden & mer" {
		t.Fatalf("title = %q", got)
	}
	if got := clip("ett två tre fyra fem", 12); got != "ett två tre…" {
		t.Fatalf("clip = %q", got)
	}
}

func TestShiftHeadings(t *testing.T) {
	if got := shiftHeadings("<h1>A</h1><h5>B</h5><p>h1</p>", 2); got != "<h3>A</h3><h6>B</h6><p>h1</p>" {
		t.Fatalf("shiftHeadings = %q", got)
	}
}
