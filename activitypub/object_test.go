package activitypub

import (
	"testing"
)

func TestDecodeRemoteObject(t *testing.T) {
	m, err := DecodeObject([]byte(`{"id":"https://mk.example/notes/1","type":"Note","attributedTo":[{"type":"Group","id":"https://mk.example/c/1"},"https://mk.example/users/a"],
		"content":"","_misskey_content":"hej <b>du</b>\nrad två","_misskey_quote":"https://mk.example/notes/0",
		"inReplyTo":{"id":"https://t.example/groups/g/posts/p"},"to":"https://www.w3.org/ns/activitystreams#Public","audience":"https://t.example/groups/g",
		"tag":[{"type":"Mention","href":"https://t.example/groups/g","name":"@g"},{"type":"Emoji","name":":blob:","icon":{"url":"https://mk.example/e.png","mediaType":"image/png"}}],
		"attachment":{"type":"Document","url":"https://mk.example/f.jpg","name":"alt"},"published":"2026-01-02T03:04:05.123Z"}`), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	o, err := DecodeRemoteObject(m)
	if err != nil {
		t.Fatal(err)
	}
	if o.AttributedTo != "https://mk.example/users/a" || o.InReplyTo != "https://t.example/groups/g/posts/p" || o.Quote != "https://mk.example/notes/0" {
		t.Errorf("refs: %+v", o)
	}
	if o.Content != "<p>hej &lt;b&gt;du&lt;/b&gt;<br>rad två</p>" {
		t.Errorf("MFM fallback: %q", o.Content)
	}
	if len(o.Emojis) != 1 || o.Emojis[0].URL != "https://mk.example/e.png" || len(o.Attachments) != 1 || o.Attachments[0].Name != "alt" {
		t.Errorf("tags/attachments: %+v %+v", o.Emojis, o.Attachments)
	}
	if got := o.Addressed(); len(got) != 2 || got[1] != "https://t.example/groups/g" {
		t.Errorf("addressed: %v", got)
	}
	if o.Published.IsZero() {
		t.Error("published not read")
	}

	m2, _ := DecodeObject([]byte(`{"id":"https://l.example/post/1","type":"Page","attributedTo":"https://l.example/u/a","name":"Titel",
		"contentMap":{"sv":"<p>x</p>"},"attachment":[{"type":"Link","href":"https://news.example/a"}]}`), Limits{})
	o2, err := DecodeRemoteObject(m2)
	if err != nil || o2.Language != "sv" || o2.Content != "<p>x</p>" || o2.Name != "Titel" || len(o2.Attachments) != 1 || o2.Attachments[0].URL != "https://news.example/a" {
		t.Fatalf("Lemmy page: %+v %v", o2, err)
	}
	for _, bad := range []string{`{"id":"https://x.example/1","type":"Person","attributedTo":"https://x.example/a"}`,
		`{"id":"https://x.example/1","type":"Note"}`} {
		m, _ := DecodeObject([]byte(bad), Limits{})
		if _, err := DecodeRemoteObject(m); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}
