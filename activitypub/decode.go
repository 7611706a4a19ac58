package activitypub

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-fed/activity/streams"
	"github.com/go-fed/activity/streams/vocab"
)

// maxContextEntries caps an array @context. We never fetch contexts, but a
// huge array still costs memory and go-fed time (hostile/context-huge-array.json).
const maxContextEntries = 64

// maxActivityNesting is how many embedded activities we unwrap below the
// top-level one: Announce{Create{Note}} and Undo{Announce{…}} need 1–2.
const maxActivityNesting = 2

// activityTypes are the type names treated as activities when embedded as an
// object; they are decoded recursively into ObjectRef.Activity.
var activityTypes = map[string]bool{
	"Accept": true, "Add": true, "Announce": true, "Arrive": true, "Block": true,
	"Create": true, "Delete": true, "Dislike": true, "Flag": true, "Follow": true,
	"Ignore": true, "Invite": true, "Join": true, "Leave": true, "Like": true,
	"Listen": true, "Move": true, "Offer": true, "Read": true, "Reject": true,
	"Remove": true, "TentativeAccept": true, "TentativeReject": true,
	"Travel": true, "Undo": true, "Update": true, "View": true,
	"EmojiReact": true, "EmojiReaction": true,
}

// actorTypes are the ActivityStreams actor types.
var actorTypes = map[string]bool{
	"Person": true, "Service": true, "Application": true, "Group": true, "Organization": true,
}

// ReadLimited reads all of r but at most max bytes. It reads one byte more
// than max to tell a body of exactly max bytes from a longer one; a longer
// body yields an error wrapping ErrTooLarge.
func ReadLimited(r io.Reader, max int64) ([]byte, error) {
	if max < 0 {
		max = 0
	}
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)
	}
	return b, nil
}

// CheckJSON runs cheap checks on an untrusted body before any decoding: the
// body must be valid UTF-8 (encoding/json would silently replace invalid
// bytes with U+FFFD, see hostile/invalid-utf8.json) and the nesting depth of
// objects and arrays, counted outside strings, must not exceed maxDepth
// (a 5000-deep document costs go-fed's ToType up to 0.6 s, see
// hostile/deeply-nested-5000.json). The scan is iterative. It does not
// otherwise validate JSON syntax. Errors wrap ErrMalformed.
func CheckJSON(body []byte, maxDepth int) error {
	if !utf8.Valid(body) {
		return fmt.Errorf("%w: body is not valid UTF-8", ErrMalformed)
	}
	depth := 0
	inString, escaped := false, false
	for _, c := range body {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > maxDepth {
				return fmt.Errorf("%w: nesting deeper than %d", ErrMalformed, maxDepth)
			}
		case '}', ']':
			depth--
			if depth < 0 {
				return fmt.Errorf("%w: unbalanced brackets", ErrMalformed)
			}
		}
	}
	return nil
}

// limitsOrDefault replaces zero fields with DefaultLimits.
func limitsOrDefault(lim Limits) Limits {
	if lim.MaxBytes <= 0 {
		lim.MaxBytes = DefaultLimits.MaxBytes
	}
	if lim.MaxDepth <= 0 {
		lim.MaxDepth = DefaultLimits.MaxDepth
	}
	return lim
}

// decodeMap applies the size, UTF-8 and depth limits, unmarshals a top-level
// object, strips NUL characters and checks @context.
func decodeMap(body []byte, lim Limits) (map[string]any, error) {
	lim = limitsOrDefault(lim)
	if int64(len(body)) > lim.MaxBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(body), lim.MaxBytes)
	}
	if err := CheckJSON(body, lim.MaxDepth); err != nil {
		return nil, err
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: trailing data after JSON document", ErrMalformed)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: top level is not a JSON object", ErrMalformed)
	}
	stripNUL(m)
	if c, ok := m["@context"].([]any); ok && len(c) > maxContextEntries {
		return nil, fmt.Errorf("%w: @context has %d entries, limit %d", ErrMalformed, len(c), maxContextEntries)
	}
	return m, nil
}

// stripNUL removes U+0000 from every string value and key, iteratively:
// PostgreSQL text columns cannot hold NUL (hostile/lone-surrogate-nul-bidi.json).
// Lone surrogate escapes were already turned into U+FFFD by encoding/json.
func stripNUL(root any) {
	stack := []any{root}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		switch t := v.(type) {
		case map[string]any:
			for k, e := range t {
				if strings.IndexByte(k, 0) >= 0 {
					delete(t, k)
					k = strings.ReplaceAll(k, "\x00", "")
				}
				if s, ok := e.(string); ok {
					t[k] = strings.ReplaceAll(s, "\x00", "")
					continue
				}
				t[k] = e
				stack = append(stack, e)
			}
		case []any:
			for i, e := range t {
				if s, ok := e.(string); ok {
					t[i] = strings.ReplaceAll(s, "\x00", "")
					continue
				}
				stack = append(stack, e)
			}
		}
	}
}

// singleType returns the one type name of v: a string, or an array holding
// exactly one string. Anything else is ambiguous (hostile/type-array-ambiguous.json).
func singleType(v any) (string, error) {
	switch t := v.(type) {
	case string:
		if t == "" {
			return "", fmt.Errorf("%w: empty type", ErrMalformed)
		}
		return t, nil
	case []any:
		if len(t) == 1 {
			if s, ok := t[0].(string); ok && s != "" {
				return s, nil
			}
		}
		return "", fmt.Errorf("%w: type must be a single string", ErrMalformed)
	case nil:
		return "", fmt.Errorf("%w: missing type", ErrMalformed)
	default:
		return "", fmt.Errorf("%w: type must be a string", ErrMalformed)
	}
}

// optionalID checks an optional "id" member: absent or "" is allowed,
// otherwise it must be a string passing ParseIRI.
func optionalID(m map[string]any, what string) (string, error) {
	v, ok := m["id"]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%w: %s id is not a string", ErrMalformed, what)
	}
	if s == "" {
		return "", nil
	}
	if _, err := ParseIRI(s); err != nil {
		return "", fmt.Errorf("%s id: %w", what, err)
	}
	return s, nil
}

// refIRI reduces a reference (a string IRI, or an object with a string id)
// to its IRI; ok is false for anything else.
func refIRI(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, t != ""
	case map[string]any:
		s, ok := t["id"].(string)
		return s, ok && s != ""
	}
	return "", false
}

// firstIRI takes the first usable IRI of a reference or an array of them.
func firstIRI(v any) string {
	if a, ok := v.([]any); ok {
		for _, e := range a {
			if s, ok := refIRI(e); ok {
				if _, err := ParseIRI(s); err == nil {
					return s
				}
			}
		}
		return ""
	}
	if s, ok := refIRI(v); ok {
		if _, err := ParseIRI(s); err == nil {
			return s
		}
	}
	return ""
}

// audience decodes to/cc: a string or an array of strings (objects with an
// id reduce to the id). null counts as absent.
func audience(m map[string]any, key string) ([]string, error) {
	switch t := m[key].(type) {
	case nil:
		return nil, nil
	case string:
		if t == "" {
			return nil, nil
		}
		return []string{t}, nil
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			switch x := e.(type) {
			case string:
				if x != "" {
					out = append(out, x)
				}
			case map[string]any:
				if s, ok := refIRI(x); ok {
					out = append(out, s)
				}
			default:
				return nil, fmt.Errorf("%w: %s entry is not a string", ErrMalformed, key)
			}
		}
		return out, nil
	default:
		return nil, fmt.Errorf("%w: %s must be a string or an array", ErrMalformed, key)
	}
}

// DecodeActivity decodes an untrusted activity. A zero Limits means
// DefaultLimits. The body is checked (size → ErrTooLarge; UTF-8 and depth →
// ErrMalformed) before it is unmarshalled; NUL characters are stripped from
// every string; @context is never fetched. The type must be a single string,
// the actor a string IRI or an object with an id, object/to/cc/target of the
// expected shapes; embedded activities (Undo{Follow}, Announce{Create{Note}})
// are decoded recursively, at most two levels deep. Known types are also
// parsed with go-fed's streams vocabulary; unknown types (EmojiReact …) and
// documents go-fed refuses are still returned, from the raw map, so the
// caller can store them as ignored. Decoding proves nothing about who sent
// it: call CheckOrigins. Errors wrap ErrTooLarge or ErrMalformed.
func DecodeActivity(body []byte, lim Limits) (*Incoming, error) {
	m, err := decodeMap(body, lim)
	if err != nil {
		return nil, err
	}
	return activityFromMap(m, 0, true)
}

// DecodeEnvelope is DecodeActivity without the go-fed vocabulary pass: the
// same limits, sanitising and shape checks, and the same result for every
// field our checks decide. Inbox handlers use it on the path that must
// answer quickly (go-fed's ToType costs a few hundred microseconds per
// activity); the stored activity is decoded with DecodeActivity when it is
// applied.
func DecodeEnvelope(body []byte, lim Limits) (*Incoming, error) {
	m, err := decodeMap(body, lim)
	if err != nil {
		return nil, err
	}
	return activityFromMap(m, 0, false)
}

// activityFromMap decodes an already sanitised activity map; level is 0 for
// the top-level activity.
func activityFromMap(m map[string]any, level int, vocab bool) (*Incoming, error) {
	in := &Incoming{Raw: m}
	var err error
	if in.Type, err = singleType(m["type"]); err != nil {
		return nil, err
	}
	if in.ID, err = optionalID(m, "activity"); err != nil {
		return nil, err
	}
	if in.Actor, err = decodeActorRef(m["actor"]); err != nil {
		return nil, err
	}
	if in.Object, err = decodeObjectRef(m, level, vocab); err != nil {
		return nil, err
	}
	if t, ok := m["target"]; ok && t != nil {
		s, ok := refIRI(t)
		if !ok {
			return nil, fmt.Errorf("%w: target must be an IRI or an object with an id", ErrMalformed)
		}
		in.Target = s
	}
	if in.To, err = audience(m, "to"); err != nil {
		return nil, err
	}
	if in.CC, err = audience(m, "cc"); err != nil {
		return nil, err
	}
	if in.Type == "Create" && in.ID == "" && in.Object.ID == "" {
		return nil, fmt.Errorf("%w: Create without activity id or object id", ErrMalformed)
	}
	if vocab {
		fillFromVocab(in)
	}
	return in, nil
}

// decodeActorRef reduces an activity's actor to one IRI.
func decodeActorRef(v any) (string, error) {
	if a, ok := v.([]any); ok {
		if len(a) != 1 {
			return "", fmt.Errorf("%w: actor must be a single actor", ErrMalformed)
		}
		v = a[0]
	}
	var s string
	switch t := v.(type) {
	case string:
		s = t
	case map[string]any:
		id, ok := t["id"].(string)
		if !ok {
			return "", fmt.Errorf("%w: embedded actor without string id", ErrMalformed)
		}
		s = id
	default:
		return "", fmt.Errorf("%w: actor must be an IRI or an object", ErrMalformed)
	}
	if _, err := ParseIRI(s); err != nil {
		return "", fmt.Errorf("actor: %w", err)
	}
	return s, nil
}

// decodeObjectRef decodes the activity's object member.
func decodeObjectRef(m map[string]any, level int, vocab bool) (ObjectRef, error) {
	v, ok := m["object"]
	if !ok {
		return ObjectRef{}, nil
	}
	if a, isArr := v.([]any); isArr {
		// Flag may carry several objects (Mastodon); the first one is the
		// ObjectRef, Raw keeps them all.
		for _, e := range a {
			switch e.(type) {
			case string, map[string]any:
			default:
				return ObjectRef{}, fmt.Errorf("%w: object entry must be an IRI or an object", ErrMalformed)
			}
		}
		if len(a) == 0 {
			return ObjectRef{}, nil
		}
		v = a[0]
	}
	switch t := v.(type) {
	case string:
		if _, err := ParseIRI(t); err != nil {
			return ObjectRef{}, fmt.Errorf("object: %w", err)
		}
		return ObjectRef{ID: t}, nil
	case map[string]any:
		ref := ObjectRef{Embedded: true, Raw: t}
		var err error
		if ref.ID, err = optionalID(t, "object"); err != nil {
			return ObjectRef{}, err
		}
		if tv, ok := t["type"]; ok {
			if ref.Type, err = singleType(tv); err != nil {
				return ObjectRef{}, fmt.Errorf("object: %w", err)
			}
		}
		if at, ok := t["attributedTo"]; ok && at != nil {
			ref.AttributedTo = firstIRI(at)
		}
		if activityTypes[ref.Type] {
			if level >= maxActivityNesting {
				return ObjectRef{}, fmt.Errorf("%w: activities nested more than %d levels", ErrMalformed, maxActivityNesting)
			}
			inner, err := activityFromMap(t, level+1, vocab)
			if err != nil {
				return ObjectRef{}, fmt.Errorf("embedded %s: %w", ref.Type, err)
			}
			ref.Activity = inner
		}
		return ref, nil
	default:
		return ObjectRef{}, fmt.Errorf("%w: object must be an IRI or an object", ErrMalformed)
	}
}

// vocabActivity is what go-fed's activity types have in common for us.
type vocabActivity interface {
	vocab.Type
	GetActivityStreamsActor() vocab.ActivityStreamsActorProperty
	GetActivityStreamsObject() vocab.ActivityStreamsObjectProperty
}

// fillFromVocab parses the activity with go-fed's streams vocabulary and, for
// known activity types, takes id, actor and object id from the typed
// properties when they agree with our own checks. Unknown types and go-fed
// errors are not errors: go-fed is the vocabulary layer, the checks above
// decide (go-fed v1.0.0 also lacks terms such as EmojiReact).
func fillFromVocab(in *Incoming) {
	t, err := streams.ToType(context.Background(), in.Raw)
	if err != nil || t == nil {
		return
	}
	if t.GetTypeName() != in.Type {
		return
	}
	if id := t.GetJSONLDId(); id != nil && id.IsIRI() {
		if s := id.Get().String(); s == in.ID {
			in.ID = s
		}
	}
	a, ok := t.(vocabActivity)
	if !ok {
		return
	}
	if ap := a.GetActivityStreamsActor(); ap != nil && ap.Len() == 1 {
		if s := iterIRI(ap.Begin()); s != "" && s == in.Actor {
			in.Actor = s
		}
	}
	if op := a.GetActivityStreamsObject(); op != nil && op.Len() >= 1 && in.Object.ID == "" && !in.Object.Embedded {
		if s := iterIRI(op.Begin()); s != "" {
			if _, err := ParseIRI(s); err == nil {
				in.Object.ID = s
			}
		}
	}
}

// iri is what go-fed property iterators offer to reach an IRI or a type.
type iri interface {
	IsIRI() bool
	GetIRI() *url.URL
	GetType() vocab.Type
}

// iterIRI returns the IRI of a property value, or the id of an embedded value.
func iterIRI(it iri) string {
	if it == nil {
		return ""
	}
	if it.IsIRI() {
		if u := it.GetIRI(); u != nil {
			return u.String()
		}
		return ""
	}
	if t := it.GetType(); t != nil {
		if id := t.GetJSONLDId(); id != nil && id.IsIRI() && id.Get() != nil {
			return id.Get().String()
		}
	}
	return ""
}

// CheckOrigins checks that a decoded activity only speaks for its actor's
// origin. Parsing proves nothing: a signature only authenticates the actor,
// so everything the activity asserts about others must be refused here.
//
//   - The actor must be an IRI without fragment (a key id such as
//     "…#main-key" is not an actor; hostile/id-fragment-tricks.json).
//   - The activity id, if present, must be on the actor's origin.
//   - Create/Update of an embedded object: its id must be on the actor's
//     origin and its attributedTo, if any, must be the actor.
//   - Undo/Accept/Reject of an embedded activity: Undo's inner actor must be
//     the actor; an embedded Follow being accepted or rejected must have the
//     actor as its object.
//   - Delete of an actor (or of any object on another origin) must come
//     from that actor.
//
// Announce may carry foreign objects (boosts); the caller must dereference
// them instead of trusting the embedded copy. Embedded activities are checked
// recursively, except inside Announce. Errors wrap ErrOrigin.
func CheckOrigins(in *Incoming) error {
	if in == nil {
		return fmt.Errorf("%w: no activity", ErrMalformed)
	}
	return checkOrigins(in)
}

func checkOrigins(in *Incoming) error {
	u, err := ParseIRI(in.Actor)
	if err != nil {
		return fmt.Errorf("%w: actor %q: %v", ErrOrigin, in.Actor, err)
	}
	if u.Fragment != "" || strings.HasSuffix(in.Actor, "#") {
		return fmt.Errorf("%w: actor %q has a fragment", ErrOrigin, in.Actor)
	}
	if in.ID != "" && !SameOrigin(in.ID, in.Actor) {
		return fmt.Errorf("%w: activity id %q not on the origin of actor %q", ErrOrigin, in.ID, in.Actor)
	}
	obj := in.Object
	switch in.Type {
	case "Create", "Update":
		if obj.Embedded && obj.Activity == nil {
			if obj.ID != "" && !SameOrigin(obj.ID, in.Actor) {
				return fmt.Errorf("%w: %s of object %q from actor %q", ErrOrigin, in.Type, obj.ID, in.Actor)
			}
			if obj.AttributedTo != "" && obj.AttributedTo != in.Actor && !(in.Type == "Update" && obj.ID == in.Actor) {
				return fmt.Errorf("%w: object attributed to %q, actor is %q", ErrOrigin, obj.AttributedTo, in.Actor)
			}
			if _, ok := obj.Raw["attributedTo"]; ok && obj.AttributedTo == "" && obj.Raw["attributedTo"] != nil {
				return fmt.Errorf("%w: object attributedTo has no usable IRI", ErrOrigin)
			}
		}
	case "Undo":
		if obj.Activity != nil && obj.Activity.Actor != in.Actor {
			return fmt.Errorf("%w: Undo by %q of an activity by %q", ErrOrigin, in.Actor, obj.Activity.Actor)
		}
	case "Accept", "Reject":
		if a := obj.Activity; a != nil && a.Type == "Follow" && a.Object.ID != "" && a.Object.ID != in.Actor {
			return fmt.Errorf("%w: %s by %q of a Follow of %q", ErrOrigin, in.Type, in.Actor, a.Object.ID)
		}
	case "Delete":
		if obj.ID != "" && obj.ID != in.Actor {
			if !SameOrigin(obj.ID, in.Actor) {
				return fmt.Errorf("%w: Delete of %q by %q", ErrOrigin, obj.ID, in.Actor)
			}
			if actorTypes[obj.Type] {
				return fmt.Errorf("%w: Delete of actor %q by %q", ErrOrigin, obj.ID, in.Actor)
			}
		}
	case "Announce":
		return nil
	}
	if obj.Activity != nil {
		if err := checkOrigins(obj.Activity); err != nil {
			return fmt.Errorf("embedded %s: %w", obj.Activity.Type, err)
		}
	}
	return nil
}

// DecodeObject decodes an untrusted object (Note, Page, Tombstone …) with
// the same limits and sanitising as DecodeActivity. It requires a string id
// (see ParseIRI) and a single string type. Errors wrap ErrTooLarge or
// ErrMalformed.
func DecodeObject(body []byte, lim Limits) (map[string]any, error) {
	m, err := decodeMap(body, lim)
	if err != nil {
		return nil, err
	}
	if _, err := singleType(m["type"]); err != nil {
		return nil, err
	}
	id, err := optionalID(m, "object")
	if err != nil {
		return nil, err
	}
	if id == "" {
		return nil, fmt.Errorf("%w: object without id", ErrMalformed)
	}
	return m, nil
}

// bidiControls are characters that reorder displayed text: refused in
// usernames so "ghost\u202egnp.exe" cannot pose as another name.
func hasBidiControl(s string) bool {
	for _, r := range s {
		switch {
		case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r == 0x200E, r == 0x200F:
			return true
		}
	}
	return false
}

// str returns m[key] if it is a string.
func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

// optIRI returns m[key] reduced to an IRI if it is a valid one, else "".
func optIRI(m map[string]any, key string) string {
	s, ok := refIRI(m[key])
	if !ok {
		return ""
	}
	if _, err := ParseIRI(s); err != nil {
		return ""
	}
	return s
}

// boolean accepts JSON booleans and the strings "true"/"false".
func boolean(v any) bool {
	switch t := v.(type) {
	case bool:
		return t
	case string:
		return t == "true"
	}
	return false
}

// linkURL reduces a url member (string, Link object, or array of either) to
// one URL, preferring text/html links.
func linkURL(v any) string {
	var first string
	consider := func(e any) string {
		switch t := e.(type) {
		case string:
			return t
		case map[string]any:
			if h, ok := t["href"].(string); ok {
				return h
			}
			if u, ok := t["url"].(string); ok {
				return u
			}
		}
		return ""
	}
	if a, ok := v.([]any); ok {
		for _, e := range a {
			s := consider(e)
			if s == "" {
				continue
			}
			if mt, _ := e.(map[string]any); mt != nil && mt["mediaType"] == "text/html" {
				return s
			}
			if first == "" {
				first = s
			}
		}
		return first
	}
	return consider(v)
}

// image reduces icon/image (object with url, or array of them) to url and
// media type.
func image(v any) (string, string, string) {
	if a, ok := v.([]any); ok {
		if len(a) == 0 {
			return "", "", ""
		}
		v = a[0]
	}
	switch t := v.(type) {
	case string:
		return t, "", ""
	case map[string]any:
		return linkURL(t["url"]), str(t, "mediaType"), str(t, "name")
	}
	return "", "", ""
}

// DecodeActor decodes an untrusted actor document with the same limits and
// sanitising as DecodeActivity. The type must be Person, Service,
// Application, Group or Organization; id and inbox are required IRIs.
// publicKey may be an object, an array (the key owned by the actor is taken,
// else the first) or absent; when present its owner must be the actor id and
// its id must be on the actor's origin (hostile/actor-publickey-id-foreign-host.json),
// else ErrOrigin. preferredUsername must not contain bidi controls.
func DecodeActor(body []byte, lim Limits) (*Actor, error) {
	m, err := decodeMap(body, lim)
	if err != nil {
		return nil, err
	}
	a := &Actor{}
	if a.Type, err = singleType(m["type"]); err != nil {
		return nil, err
	}
	if !actorTypes[a.Type] {
		return nil, fmt.Errorf("%w: %q is not an actor type", ErrMalformed, a.Type)
	}
	if a.ID, err = optionalID(m, "actor"); err != nil {
		return nil, err
	}
	if a.ID == "" {
		return nil, fmt.Errorf("%w: actor without id", ErrMalformed)
	}
	a.Inbox, _ = m["inbox"].(string)
	if _, err := ParseIRI(a.Inbox); err != nil {
		return nil, fmt.Errorf("actor inbox: %w", err)
	}
	a.PreferredUsername = str(m, "preferredUsername")
	if hasBidiControl(a.PreferredUsername) {
		return nil, fmt.Errorf("%w: preferredUsername contains bidi control characters", ErrMalformed)
	}
	a.Name = str(m, "name")
	a.Summary = str(m, "summary")
	a.URL = linkURL(m["url"])
	a.Outbox = optIRI(m, "outbox")
	a.Followers = optIRI(m, "followers")
	a.Following = optIRI(m, "following")
	a.Featured = optIRI(m, "featured")
	if a.Type == "Group" {
		a.Moderators = firstIRI(m["attributedTo"])
	}
	a.IconURL, a.IconMediaType, a.IconName = image(m["icon"])
	a.ImageURL, a.ImageMediaType, a.ImageName = image(m["image"])
	a.ManuallyApprovesFollowers = boolean(m["manuallyApprovesFollowers"])
	a.Discoverable = boolean(m["discoverable"])
	a.PostingRestrictedToMods = boolean(m["postingRestrictedToMods"])
	if p, ok := m["published"].(string); ok {
		if t, err := time.Parse(time.RFC3339Nano, p); err == nil {
			a.Published = t.UTC()
		}
	}
	if ep, ok := m["endpoints"].(map[string]any); ok {
		a.SharedInbox = optIRI(ep, "sharedInbox")
	}
	if a.SharedInbox == "" {
		a.SharedInbox = optIRI(m, "sharedInbox") // Misskey puts it at top level
	}
	switch aka := m["alsoKnownAs"].(type) {
	case string:
		if _, err := ParseIRI(aka); err == nil {
			a.AlsoKnownAs = []string{aka}
		}
	case []any:
		for _, e := range aka {
			if s, ok := refIRI(e); ok {
				if _, err := ParseIRI(s); err == nil {
					a.AlsoKnownAs = append(a.AlsoKnownAs, s)
				}
			}
		}
	}
	atts, _ := m["attachment"].([]any)
	if one, ok := m["attachment"].(map[string]any); ok {
		atts = []any{one}
	}
	for _, e := range atts {
		pv, ok := e.(map[string]any)
		if !ok || pv["type"] != "PropertyValue" {
			continue
		}
		a.Fields = append(a.Fields, PropertyValue{Name: str(pv, "name"), Value: str(pv, "value")})
	}
	if err := actorKey(a, m["publicKey"]); err != nil {
		return nil, err
	}
	return a, nil
}

// actorKey fills the public key fields and checks key ownership.
func actorKey(a *Actor, v any) error {
	var keys []map[string]any
	switch t := v.(type) {
	case nil:
		return nil
	case map[string]any:
		keys = []map[string]any{t}
	case []any:
		for _, e := range t {
			if k, ok := e.(map[string]any); ok {
				keys = append(keys, k)
			}
		}
	default:
		return fmt.Errorf("%w: publicKey must be an object", ErrMalformed)
	}
	if len(keys) == 0 {
		return nil
	}
	key := keys[0]
	for _, k := range keys {
		if owner, _ := refIRI(k["owner"]); owner == a.ID {
			key = k
			break
		}
	}
	a.PublicKeyID = str(key, "id")
	a.PublicKeyOwner, _ = refIRI(key["owner"])
	a.PublicKeyPEM = str(key, "publicKeyPem")
	if a.PublicKeyOwner != a.ID {
		return fmt.Errorf("%w: publicKey owner %q is not the actor %q", ErrOrigin, a.PublicKeyOwner, a.ID)
	}
	if !SameOrigin(a.PublicKeyID, a.ID) {
		return fmt.Errorf("%w: publicKey id %q not on the origin of actor %q", ErrOrigin, a.PublicKeyID, a.ID)
	}
	return nil
}
