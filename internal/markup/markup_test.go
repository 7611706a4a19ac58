package markup

import (
	"reflect"
	"strings"
	"testing"
)

func TestRender(t *testing.T) {
	r := New(func(tag string) string { return "https://x.example/tags/" + tag })
	tests := []struct {
		name, in    string
		contains    []string
		notContains []string
	}{
		{"paragraph and emphasis", "Hej **Älvsjö**!", []string{"<p>Hej <strong>Älvsjö</strong>!</p>"}, nil},
		{"raw html escaped", "<script>alert(1)</script> <b onclick=x>hi</b>", []string{"&lt;script&gt;alert(1)&lt;/script&gt;"}, []string{"<script", "<b "}},
		{"text that looks like html is kept", "<3 och <div> är text", []string{"&lt;3 och &lt;div&gt; är text"}, nil},
		{"javascript link dropped", "[click](javascript:alert(1))", nil, []string{"javascript:"}},
		{"hashtag linked", "Möte om #Parkering idag", []string{`<a href="https://x.example/tags/parkering" class="mention hashtag" rel="tag">#<span>Parkering</span></a>`}, nil},
		{"no hashtag in code", "`#notatag`", []string{"<code>#notatag</code>"}, []string{"hashtag"}},
		{"autolink", "Se https://stockholm.se/ för mer", []string{`<a href="https://stockholm.se/">https://stockholm.se/</a>`}, nil},
		{"hard wraps", "rad ett\nrad två", []string{"rad ett<br>"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := r.Render(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range tt.contains {
				if !strings.Contains(out.HTML, c) {
					t.Errorf("HTML %q lacks %q", out.HTML, c)
				}
			}
			for _, c := range tt.notContains {
				if strings.Contains(out.HTML, c) {
					t.Errorf("HTML %q contains %q", out.HTML, c)
				}
			}
		})
	}
}

func TestHashtagsAndMentions(t *testing.T) {
	text := "#Möte i #älvsjö, inte issue#3 eller #123. Hej @anna@mastodon.example och @bo@gts.example:8443, igen @anna@mastodon.example. mail: x@y.se"
	if got, want := Hashtags(text), []string{"möte", "älvsjö"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Hashtags = %v, want %v", got, want)
	}
	got := Mentions(text)
	want := []Mention{{"anna", "mastodon.example"}, {"bo", "gts.example:8443"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Mentions = %v, want %v", got, want)
	}
}

func TestLinkMentions(t *testing.T) {
	r := New(nil)
	out, err := r.Render("Hej @anna@mastodon.example och @okänd@x.example! `@anna@mastodon.example`")
	if err != nil {
		t.Fatal(err)
	}
	got := LinkMentions(out.HTML, map[string]string{"anna@mastodon.example": "https://mastodon.example/@anna"})
	want := `<p>Hej <span class="h-card"><a href="https://mastodon.example/@anna" class="u-url mention">@<span>anna</span></a></span> och @okänd@x.example! <code>@anna@mastodon.example</code></p>`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	// The result survives the publishing policy.
	if s := Policy().Sanitize(got); s != got {
		t.Fatalf("policy changed the mention markup:\n%s", s)
	}
}
