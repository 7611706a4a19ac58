package activitypub

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/go-fed/activity/streams"
	"github.com/go-fed/activity/streams/vocab"
)

// extensionTerms maps each extension term we emit to its JSON-LD definition
// in the inline @context. go-fed v1.0.0 does not know several of them, or
// emits them without this context; see
// superseriousbusiness/gotosocial internal/ap/serialize.go for the same fix.
var extensionTerms = []struct {
	term string
	def  any
}{
	{"manuallyApprovesFollowers", "as:manuallyApprovesFollowers"},
	{"sensitive", "as:sensitive"},
	{"Hashtag", "as:Hashtag"},
	{"toot", "http://joinmastodon.org/ns#"},
	{"featured", map[string]any{"@id": "toot:featured", "@type": "@id"}},
	{"discoverable", "toot:discoverable"},
	{"blurhash", "toot:blurhash"},
	{"schema", "http://schema.org#"},
	{"PropertyValue", "schema:PropertyValue"},
	{"value", "schema:value"},
	{"lemmy", "https://join-lemmy.org/ns#"},
	{"postingRestrictedToMods", "lemmy:postingRestrictedToMods"},
}

// documentContext is the @context of every document we publish: only the
// ActivityStreams and security contexts by reference (peers may fail on
// context URLs they do not know, see INTEROP.md), extensions inline.
func documentContext() []any {
	terms := make(map[string]any, len(extensionTerms))
	for _, t := range extensionTerms {
		terms[t.term] = t.def
	}
	return []any{ActivityStreamsContext, SecurityContext, terms}
}

// arrayKeys are always emitted as arrays, even with a single member:
// go-fed v1.0.0 collapses one-element properties to a scalar, which some
// peers mishandle.
var arrayKeys = []string{"to", "cc", "tag", "attachment", "orderedItems"}

// finish is the one post-processing step on a serialized map: it forces
// arrays and, for top-level documents, sets our @context; embedded objects
// lose theirs.
func finish(m map[string]any, top bool) ([]byte, error) {
	forceArrays(m)
	delete(m, "@context")
	if top {
		m["@context"] = documentContext()
	}
	// No HTML escaping: content is HTML, and "\u003cp\u003e" only hurts
	// readability (it is equivalent JSON).
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// forceArrays wraps scalar values of arrayKeys in a one-element array.
func forceArrays(m map[string]any) {
	for _, k := range arrayKeys {
		v, ok := m[k]
		if !ok || v == nil {
			continue
		}
		if _, isArr := v.([]any); !isArr {
			m[k] = []any{v}
		}
	}
}

func mustIRI(s, what string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || s == "" {
		return nil, fmt.Errorf("encode %s %q: %w", what, s, ErrMalformed)
	}
	return u, nil
}

// iriSetter is a go-fed functional property that can hold an IRI.
type iriSetter interface{ SetIRI(*url.URL) }

// setIRI sets an optional IRI property; empty s is skipped.
func setIRI[P iriSetter](s, what string, p P, set func(P)) error {
	if s == "" {
		return nil
	}
	u, err := mustIRI(s, what)
	if err != nil {
		return err
	}
	p.SetIRI(u)
	set(p)
	return nil
}

type iriAppender interface{ AppendIRI(*url.URL) }

// appendIRIs sets a non-functional IRI property; an empty list is skipped.
func appendIRIs[P iriAppender](list []string, what string, p P, set func(P)) error {
	if len(list) == 0 {
		return nil
	}
	for _, s := range list {
		u, err := mustIRI(s, what)
		if err != nil {
			return err
		}
		p.AppendIRI(u)
	}
	set(p)
	return nil
}

func idProp(s string) (vocab.JSONLDIdProperty, error) {
	u, err := mustIRI(s, "id")
	if err != nil {
		return nil, err
	}
	p := streams.NewJSONLDIdProperty()
	p.Set(u)
	return p, nil
}

func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

// rfc3339 formats t as "2006-01-02T15:04:05Z".
func rfc3339(t time.Time) string { return utc(t).Format(time.RFC3339) }

// actorType is the part of go-fed's actor types we set.
type actorType interface {
	vocab.Type
	SetJSONLDId(vocab.JSONLDIdProperty)
	SetActivityStreamsPreferredUsername(vocab.ActivityStreamsPreferredUsernameProperty)
	SetActivityStreamsName(vocab.ActivityStreamsNameProperty)
	SetActivityStreamsSummary(vocab.ActivityStreamsSummaryProperty)
	SetActivityStreamsUrl(vocab.ActivityStreamsUrlProperty)
	SetActivityStreamsInbox(vocab.ActivityStreamsInboxProperty)
	SetActivityStreamsOutbox(vocab.ActivityStreamsOutboxProperty)
	SetActivityStreamsFollowers(vocab.ActivityStreamsFollowersProperty)
	SetActivityStreamsFollowing(vocab.ActivityStreamsFollowingProperty)
	SetActivityStreamsPublished(vocab.ActivityStreamsPublishedProperty)
	SetActivityStreamsAttributedTo(vocab.ActivityStreamsAttributedToProperty)
	SetTootFeatured(vocab.TootFeaturedProperty)
	SetTootDiscoverable(vocab.TootDiscoverableProperty)
	SetW3IDSecurityV1PublicKey(vocab.W3IDSecurityV1PublicKeyProperty)
}

func newActorType(typ string) (actorType, error) {
	switch typ {
	case "Group":
		return streams.NewActivityStreamsGroup(), nil
	case "Application":
		return streams.NewActivityStreamsApplication(), nil
	case "Person":
		return streams.NewActivityStreamsPerson(), nil
	case "Service":
		return streams.NewActivityStreamsService(), nil
	case "Organization":
		return streams.NewActivityStreamsOrganization(), nil
	}
	return nil, fmt.Errorf("encode actor: %w: type %q", ErrMalformed, typ)
}

// actorMap builds the serialized map of an actor (without final processing).
func actorMap(a *Actor) (map[string]any, error) {
	t, err := newActorType(a.Type)
	if err != nil {
		return nil, err
	}
	id, err := idProp(a.ID)
	if err != nil {
		return nil, err
	}
	t.SetJSONLDId(id)
	if a.PreferredUsername != "" {
		p := streams.NewActivityStreamsPreferredUsernameProperty()
		p.SetXMLSchemaString(a.PreferredUsername)
		t.SetActivityStreamsPreferredUsername(p)
	}
	if a.Name != "" {
		p := streams.NewActivityStreamsNameProperty()
		p.AppendXMLSchemaString(a.Name)
		t.SetActivityStreamsName(p)
	}
	if a.Summary != "" {
		p := streams.NewActivityStreamsSummaryProperty()
		p.AppendXMLSchemaString(a.Summary)
		t.SetActivityStreamsSummary(p)
	}
	if err := appendIRIs(nonEmpty(a.URL), "url", streams.NewActivityStreamsUrlProperty(), t.SetActivityStreamsUrl); err != nil {
		return nil, err
	}
	if a.Inbox == "" {
		return nil, fmt.Errorf("encode actor %q: %w: no inbox", a.ID, ErrMalformed)
	}
	for _, e := range []error{
		setIRI(a.Inbox, "inbox", streams.NewActivityStreamsInboxProperty(), t.SetActivityStreamsInbox),
		setIRI(a.Outbox, "outbox", streams.NewActivityStreamsOutboxProperty(), t.SetActivityStreamsOutbox),
		setIRI(a.Followers, "followers", streams.NewActivityStreamsFollowersProperty(), t.SetActivityStreamsFollowers),
		setIRI(a.Following, "following", streams.NewActivityStreamsFollowingProperty(), t.SetActivityStreamsFollowing),
		setIRI(a.Featured, "featured", streams.NewTootFeaturedProperty(), t.SetTootFeatured),
	} {
		if e != nil {
			return nil, e
		}
	}
	if a.Type == "Group" {
		// Lemmy (FEP-1b12) lists a community's moderators as attributedTo.
		if err := appendIRIs(nonEmpty(a.Moderators), "moderators", streams.NewActivityStreamsAttributedToProperty(), t.SetActivityStreamsAttributedTo); err != nil {
			return nil, err
		}
	}
	d := streams.NewTootDiscoverableProperty()
	d.Set(a.Discoverable)
	t.SetTootDiscoverable(d)
	if !a.Published.IsZero() {
		p := streams.NewActivityStreamsPublishedProperty()
		p.Set(utc(a.Published))
		t.SetActivityStreamsPublished(p)
	}
	if a.PublicKeyPEM != "" {
		k := streams.NewW3IDSecurityV1PublicKey()
		kid, err := idProp(a.PublicKeyID)
		if err != nil {
			return nil, err
		}
		k.SetJSONLDId(kid)
		owner := a.PublicKeyOwner
		if owner == "" {
			owner = a.ID
		}
		ou, err := mustIRI(owner, "publicKey owner")
		if err != nil {
			return nil, err
		}
		op := streams.NewW3IDSecurityV1OwnerProperty()
		op.Set(ou)
		k.SetW3IDSecurityV1Owner(op)
		pem := streams.NewW3IDSecurityV1PublicKeyPemProperty()
		pem.Set(a.PublicKeyPEM)
		k.SetW3IDSecurityV1PublicKeyPem(pem)
		kp := streams.NewW3IDSecurityV1PublicKeyProperty()
		kp.AppendW3IDSecurityV1PublicKey(k)
		t.SetW3IDSecurityV1PublicKey(kp)
	}
	m, err := streams.Serialize(t)
	if err != nil {
		return nil, fmt.Errorf("encode actor %q: %w", a.ID, err)
	}
	// Terms go-fed v1.0.0 lacks, or emits in a shape peers do not expect.
	m["manuallyApprovesFollowers"] = a.ManuallyApprovesFollowers
	if a.Type == "Group" {
		m["postingRestrictedToMods"] = a.PostingRestrictedToMods
	}
	if a.SharedInbox != "" {
		m["endpoints"] = map[string]any{"sharedInbox": a.SharedInbox}
	}
	if a.PublicKeyPEM != "" {
		// One object, not an array, as Mastodon and Fedify expect.
		owner := a.PublicKeyOwner
		if owner == "" {
			owner = a.ID
		}
		m["publicKey"] = map[string]any{"id": a.PublicKeyID, "owner": owner, "publicKeyPem": a.PublicKeyPEM}
	}
	if a.IconURL != "" {
		m["icon"] = imageMap(a.IconURL, a.IconMediaType, a.IconName)
	}
	if a.ImageURL != "" {
		m["image"] = imageMap(a.ImageURL, a.ImageMediaType, a.ImageName)
	}
	if len(a.Fields) > 0 {
		att := make([]any, 0, len(a.Fields))
		for _, f := range a.Fields {
			att = append(att, map[string]any{"type": "PropertyValue", "name": f.Name, "value": f.Value})
		}
		m["attachment"] = att
	}
	if len(a.AlsoKnownAs) > 0 {
		aka := make([]any, 0, len(a.AlsoKnownAs))
		for _, s := range a.AlsoKnownAs {
			aka = append(aka, s)
		}
		m["alsoKnownAs"] = aka
	}
	return m, nil
}

// imageMap is an actor's icon or image; name is its alt text, as
// Mastodon reads it (and as screen readers need it).
func imageMap(u, mediaType, name string) map[string]any {
	m := map[string]any{"type": "Image", "url": u}
	putStr(m, "mediaType", mediaType)
	putStr(m, "name", name)
	return m
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// EncodeActor encodes a local actor (Group, Application …) with our
// @context, publicKey {id, owner, publicKeyPem}, endpoints.sharedInbox,
// manuallyApprovesFollowers, discoverable, featured and, for a Group,
// attributedTo = the moderators collection (Lemmy style) and
// postingRestrictedToMods.
func EncodeActor(a *Actor) ([]byte, error) {
	m, err := actorMap(a)
	if err != nil {
		return nil, err
	}
	return finish(m, true)
}

// noteMap builds the serialized map of a Note.
func noteMap(n *Note) (map[string]any, error) {
	typ := n.Type
	if typ == "" {
		typ = "Note"
	}
	t := streams.NewActivityStreamsNote()
	id, err := idProp(n.ID)
	if err != nil {
		return nil, err
	}
	t.SetJSONLDId(id)
	for _, e := range []error{
		appendIRIs(nonEmpty(n.AttributedTo), "attributedTo", streams.NewActivityStreamsAttributedToProperty(), t.SetActivityStreamsAttributedTo),
		appendIRIs(nonEmpty(n.URL), "url", streams.NewActivityStreamsUrlProperty(), t.SetActivityStreamsUrl),
		appendIRIs(nonEmpty(n.InReplyTo), "inReplyTo", streams.NewActivityStreamsInReplyToProperty(), t.SetActivityStreamsInReplyTo),
		appendIRIs(nonEmpty(n.Context), "context", streams.NewActivityStreamsContextProperty(), t.SetActivityStreamsContext),
		appendIRIs(n.To, "to", streams.NewActivityStreamsToProperty(), t.SetActivityStreamsTo),
		appendIRIs(n.CC, "cc", streams.NewActivityStreamsCcProperty(), t.SetActivityStreamsCc),
	} {
		if e != nil {
			return nil, e
		}
	}
	if n.Replies != "" {
		u, err := mustIRI(n.Replies, "replies")
		if err != nil {
			return nil, err
		}
		p := streams.NewActivityStreamsRepliesProperty()
		p.SetIRI(u)
		t.SetActivityStreamsReplies(p)
	}
	if n.Content != "" {
		p := streams.NewActivityStreamsContentProperty()
		p.AppendXMLSchemaString(n.Content)
		t.SetActivityStreamsContent(p)
	}
	if n.Summary != "" {
		p := streams.NewActivityStreamsSummaryProperty()
		p.AppendXMLSchemaString(n.Summary)
		t.SetActivityStreamsSummary(p)
	}
	if !n.Published.IsZero() {
		p := streams.NewActivityStreamsPublishedProperty()
		p.Set(utc(n.Published))
		t.SetActivityStreamsPublished(p)
	}
	if !n.Updated.IsZero() {
		p := streams.NewActivityStreamsUpdatedProperty()
		p.Set(utc(n.Updated))
		t.SetActivityStreamsUpdated(p)
	}
	m, err := streams.Serialize(t)
	if err != nil {
		return nil, fmt.Errorf("encode note %q: %w", n.ID, err)
	}
	m["type"] = typ
	if n.Language != "" && n.Content != "" {
		m["contentMap"] = map[string]any{n.Language: n.Content}
	}
	if n.Sensitive || n.Summary != "" {
		m["sensitive"] = true
	}
	if len(n.Tags) > 0 {
		tags := make([]any, 0, len(n.Tags))
		for _, tg := range n.Tags {
			e := map[string]any{"type": tg.Type}
			putStr(e, "href", tg.Href)
			putStr(e, "name", tg.Name)
			tags = append(tags, e)
		}
		m["tag"] = tags
	}
	if len(n.Attachments) > 0 {
		atts := make([]any, 0, len(n.Attachments))
		for _, at := range n.Attachments {
			typ := at.Type
			if typ == "" {
				typ = "Document"
			}
			e := map[string]any{"type": typ}
			putStr(e, "mediaType", at.MediaType)
			putStr(e, "url", at.URL)
			putStr(e, "name", at.Name)
			putStr(e, "blurhash", at.Blurhash)
			if at.Width > 0 {
				e["width"] = at.Width
			}
			if at.Height > 0 {
				e["height"] = at.Height
			}
			atts = append(atts, e)
		}
		m["attachment"] = atts
	}
	return m, nil
}

func putStr(m map[string]any, k, v string) {
	if v != "" {
		m[k] = v
	}
}

// EncodeNote encodes a Note with our @context: contentMap when Language is
// set, sensitive when Sensitive or a content warning (Summary) is set,
// Hashtag/Mention tags and attachments as arrays.
func EncodeNote(n *Note) ([]byte, error) {
	m, err := noteMap(n)
	if err != nil {
		return nil, err
	}
	return finish(m, true)
}

func tombstoneMap(ts *Tombstone) (map[string]any, error) {
	t := streams.NewActivityStreamsTombstone()
	id, err := idProp(ts.ID)
	if err != nil {
		return nil, err
	}
	t.SetJSONLDId(id)
	if ts.FormerType != "" {
		p := streams.NewActivityStreamsFormerTypeProperty()
		p.AppendXMLSchemaString(ts.FormerType)
		t.SetActivityStreamsFormerType(p)
	}
	if !ts.Published.IsZero() {
		p := streams.NewActivityStreamsPublishedProperty()
		p.Set(utc(ts.Published))
		t.SetActivityStreamsPublished(p)
	}
	if !ts.Updated.IsZero() {
		p := streams.NewActivityStreamsUpdatedProperty()
		p.Set(utc(ts.Updated))
		t.SetActivityStreamsUpdated(p)
	}
	if !ts.Deleted.IsZero() {
		p := streams.NewActivityStreamsDeletedProperty()
		p.Set(utc(ts.Deleted))
		t.SetActivityStreamsDeleted(p)
	}
	m, err := streams.Serialize(t)
	if err != nil {
		return nil, fmt.Errorf("encode tombstone %q: %w", ts.ID, err)
	}
	return m, nil
}

// EncodeTombstone encodes the Tombstone served in place of a deleted object.
func EncodeTombstone(t *Tombstone) ([]byte, error) {
	m, err := tombstoneMap(t)
	if err != nil {
		return nil, err
	}
	return finish(m, true)
}

// activityType is the part of go-fed's activity types we set.
type activityType interface {
	vocab.Type
	SetJSONLDId(vocab.JSONLDIdProperty)
	SetActivityStreamsActor(vocab.ActivityStreamsActorProperty)
	SetActivityStreamsObject(vocab.ActivityStreamsObjectProperty)
	SetActivityStreamsTarget(vocab.ActivityStreamsTargetProperty)
	SetActivityStreamsTo(vocab.ActivityStreamsToProperty)
	SetActivityStreamsCc(vocab.ActivityStreamsCcProperty)
	SetActivityStreamsPublished(vocab.ActivityStreamsPublishedProperty)
}

// newActivityType returns the go-fed type for typ, or nil if go-fed v1.0.0
// has no such activity (EmojiReact …); those are built as plain maps.
func newActivityType(typ string) activityType {
	switch typ {
	case "Create":
		return streams.NewActivityStreamsCreate()
	case "Update":
		return streams.NewActivityStreamsUpdate()
	case "Delete":
		return streams.NewActivityStreamsDelete()
	case "Accept":
		return streams.NewActivityStreamsAccept()
	case "Reject":
		return streams.NewActivityStreamsReject()
	case "Announce":
		return streams.NewActivityStreamsAnnounce()
	case "Undo":
		return streams.NewActivityStreamsUndo()
	case "Follow":
		return streams.NewActivityStreamsFollow()
	case "Like":
		return streams.NewActivityStreamsLike()
	case "Block":
		return streams.NewActivityStreamsBlock()
	case "Add":
		return streams.NewActivityStreamsAdd()
	case "Remove":
		return streams.NewActivityStreamsRemove()
	case "Flag":
		return streams.NewActivityStreamsFlag()
	case "Move":
		return streams.NewActivityStreamsMove()
	}
	return nil
}

// embeddedMap returns the map of an embedded object, without @context.
func embeddedMap(obj any) (map[string]any, error) {
	var m map[string]any
	var err error
	switch o := obj.(type) {
	case *Note:
		m, err = noteMap(o)
	case *Tombstone:
		m, err = tombstoneMap(o)
	case *Actor:
		m, err = actorMap(o)
	case *Activity:
		m, err = activityMap(o)
	case json.RawMessage:
		if err := json.Unmarshal(o, &m); err != nil || m == nil {
			return nil, fmt.Errorf("encode embedded object: %w: not a JSON object", ErrMalformed)
		}
	default:
		return nil, fmt.Errorf("encode embedded object: %w: unsupported %T", ErrMalformed, obj)
	}
	if err != nil {
		return nil, err
	}
	forceArrays(m)
	delete(m, "@context")
	return m, nil
}

func activityMap(a *Activity) (map[string]any, error) {
	objIRI, isIRI := a.Object.(string)
	var m map[string]any
	if t := newActivityType(a.Type); t != nil {
		if a.ID != "" {
			id, err := idProp(a.ID)
			if err != nil {
				return nil, err
			}
			t.SetJSONLDId(id)
		}
		for _, e := range []error{
			appendIRIs(nonEmpty(a.Actor), "actor", streams.NewActivityStreamsActorProperty(), t.SetActivityStreamsActor),
			appendIRIs(nonEmpty(a.Target), "target", streams.NewActivityStreamsTargetProperty(), t.SetActivityStreamsTarget),
			appendIRIs(a.To, "to", streams.NewActivityStreamsToProperty(), t.SetActivityStreamsTo),
			appendIRIs(a.CC, "cc", streams.NewActivityStreamsCcProperty(), t.SetActivityStreamsCc),
		} {
			if e != nil {
				return nil, e
			}
		}
		if isIRI {
			if err := appendIRIs(nonEmpty(objIRI), "object", streams.NewActivityStreamsObjectProperty(), t.SetActivityStreamsObject); err != nil {
				return nil, err
			}
		}
		if !a.Published.IsZero() {
			p := streams.NewActivityStreamsPublishedProperty()
			p.Set(utc(a.Published))
			t.SetActivityStreamsPublished(p)
		}
		var err error
		if m, err = streams.Serialize(t); err != nil {
			return nil, fmt.Errorf("encode %s %q: %w", a.Type, a.ID, err)
		}
	} else {
		if a.Type == "" {
			return nil, fmt.Errorf("encode activity: %w: no type", ErrMalformed)
		}
		m = map[string]any{"type": a.Type}
		putStr(m, "id", a.ID)
		putStr(m, "actor", a.Actor)
		putStr(m, "target", a.Target)
		if isIRI {
			putStr(m, "object", objIRI)
		}
		if len(a.To) > 0 {
			m["to"] = stringsAny(a.To)
		}
		if len(a.CC) > 0 {
			m["cc"] = stringsAny(a.CC)
		}
		if !a.Published.IsZero() {
			m["published"] = rfc3339(a.Published)
		}
	}
	if a.Object != nil && !isIRI {
		o, err := embeddedMap(a.Object)
		if err != nil {
			return nil, fmt.Errorf("encode %s %q: %w", a.Type, a.ID, err)
		}
		m["object"] = o
	}
	if len(a.Objects) > 0 {
		if a.Object != nil {
			return nil, fmt.Errorf("encode %s %q: %w: both Object and Objects", a.Type, a.ID, ErrMalformed)
		}
		m["object"] = stringsAny(a.Objects)
	}
	if a.Content != "" {
		m["content"] = a.Content
	}
	return m, nil
}

func stringsAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// EncodeActivity encodes an activity we publish. A string Object is an IRI;
// *Note, *Tombstone, *Actor, *Activity and json.RawMessage objects are
// embedded without their own @context.
func EncodeActivity(a *Activity) ([]byte, error) {
	m, err := activityMap(a)
	if err != nil {
		return nil, err
	}
	return finish(m, true)
}

// rawItems decodes collection items (IRIs or objects) into JSON values,
// dropping the @context of embedded objects.
func rawItems(items []json.RawMessage, ours bool) ([]any, error) {
	out := make([]any, 0, len(items))
	for _, it := range items {
		if ours {
			if fast, ok := dropLeadingContext(it); ok {
				out = append(out, fast)
				continue
			}
		}
		var v any
		if err := json.Unmarshal(it, &v); err != nil {
			return nil, fmt.Errorf("encode collection item: %w: %v", ErrMalformed, err)
		}
		switch x := v.(type) {
		case string:
		case map[string]any:
			delete(x, "@context")
			forceArrays(x)
		default:
			return nil, fmt.Errorf("encode collection item: %w: not an IRI or an object", ErrMalformed)
		}
		out = append(out, v)
	}
	return out, nil
}

// dropLeadingContext removes the @context of a document that begins with
// it, as everything our encoder writes does (json.Marshal sorts keys and
// "@" sorts first), without decoding the rest: outbox pages embed twenty
// stored activities, and a decode/encode round trip of each dominated the
// cost of serving a page. Anything else takes the general path.
func dropLeadingContext(b json.RawMessage) (json.RawMessage, bool) {
	// Our documents start with exactly this: a prefix test and a slice.
	if p := ourContextPrefix(); bytes.HasPrefix(b, p) {
		out := make([]byte, 0, len(b)-len(p)+1)
		out = append(out, '{')
		return append(out, b[len(p):]...), true
	}
	const prefix = `{"@context":`
	if !bytes.HasPrefix(b, []byte(prefix)) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(b[len(prefix):]))
	var ctx json.RawMessage
	if err := dec.Decode(&ctx); err != nil {
		return nil, false
	}
	rest := b[len(prefix)+int(dec.InputOffset()):]
	if len(rest) < 2 || rest[0] != ',' {
		return nil, false
	}
	out := make([]byte, 0, len(rest))
	out = append(out, '{')
	out = append(out, rest[1:]...)
	if !json.Valid(out) {
		return nil, false
	}
	return out, true
}

// ourContextPrefix is how every document finish writes begins:
// {"@context":…, with the context as finish encodes it.
var ourContextPrefix = sync.OnceValue(func() []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]any{"@context": documentContext(), "~": 0}); err != nil {
		panic(err)
	}
	b := buf.Bytes()
	return b[:bytes.LastIndex(b, []byte(`"~"`))]
})

// EncodeCollection encodes an OrderedCollection root: totalItems, first and
// last page IRIs, and orderedItems only when InlineItems is set or Items is
// non-empty.
func EncodeCollection(c *OrderedCollection) ([]byte, error) {
	t := streams.NewActivityStreamsOrderedCollection()
	id, err := idProp(c.ID)
	if err != nil {
		return nil, err
	}
	t.SetJSONLDId(id)
	ti := streams.NewActivityStreamsTotalItemsProperty()
	ti.Set(c.TotalItems)
	t.SetActivityStreamsTotalItems(ti)
	for _, e := range []error{
		setIRI(c.First, "first", streams.NewActivityStreamsFirstProperty(), t.SetActivityStreamsFirst),
		setIRI(c.Last, "last", streams.NewActivityStreamsLastProperty(), t.SetActivityStreamsLast),
	} {
		if e != nil {
			return nil, e
		}
	}
	m, err := streams.Serialize(t)
	if err != nil {
		return nil, fmt.Errorf("encode collection %q: %w", c.ID, err)
	}
	if c.Type != "" {
		m["type"] = c.Type
	}
	if c.InlineItems || len(c.Items) > 0 {
		items, err := rawItems(c.Items, false)
		if err != nil {
			return nil, err
		}
		m["orderedItems"] = items
	}
	return finish(m, true)
}

// EncodeCollectionPage encodes one OrderedCollectionPage: partOf, next,
// prev, totalItems and orderedItems (always an array).
func EncodeCollectionPage(p *OrderedCollectionPage) ([]byte, error) {
	t := streams.NewActivityStreamsOrderedCollectionPage()
	id, err := idProp(p.ID)
	if err != nil {
		return nil, err
	}
	t.SetJSONLDId(id)
	ti := streams.NewActivityStreamsTotalItemsProperty()
	ti.Set(p.TotalItems)
	t.SetActivityStreamsTotalItems(ti)
	for _, e := range []error{
		setIRI(p.PartOf, "partOf", streams.NewActivityStreamsPartOfProperty(), t.SetActivityStreamsPartOf),
		setIRI(p.Next, "next", streams.NewActivityStreamsNextProperty(), t.SetActivityStreamsNext),
		setIRI(p.Prev, "prev", streams.NewActivityStreamsPrevProperty(), t.SetActivityStreamsPrev),
	} {
		if e != nil {
			return nil, e
		}
	}
	m, err := streams.Serialize(t)
	if err != nil {
		return nil, fmt.Errorf("encode collection page %q: %w", p.ID, err)
	}
	items, err := rawItems(p.Items, p.ItemsEncodedHere)
	if err != nil {
		return nil, err
	}
	m["orderedItems"] = items
	return finish(m, true)
}
