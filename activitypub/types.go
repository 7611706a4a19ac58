package activitypub

import (
	"encoding/json"
	"time"
)

// Media types and well-known IRIs.
const (
	// ContentType is the media type we send and prefer.
	ContentType = "application/activity+json"
	// LDContentType is the JSON-LD form some peers (GoToSocial) send and ask for.
	LDContentType = `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`
	// PublicIRI addresses everyone.
	PublicIRI = "https://www.w3.org/ns/activitystreams#Public"
	// ActivityStreamsContext and SecurityContext are the only @context
	// documents we reference: peers that do not know a context may fail.
	ActivityStreamsContext = "https://www.w3.org/ns/activitystreams"
	SecurityContext        = "https://w3id.org/security/v1"
)

// Actor is a local actor we publish (Group, Application) or a remote actor
// we read (Person, Service, Group …).
type Actor struct {
	ID                        string
	Type                      string // Group, Application, Person, Service, Organization
	PreferredUsername         string
	Name                      string
	Summary                   string // HTML
	URL                       string // HTML profile page
	Inbox                     string
	Outbox                    string
	Followers                 string
	Following                 string
	Featured                  string
	Moderators                string // Lemmy-style attributedTo collection of moderators
	SharedInbox               string // endpoints.sharedInbox
	PublicKeyID               string
	PublicKeyOwner            string
	PublicKeyPEM              string // SPKI PEM ("BEGIN PUBLIC KEY")
	IconURL                   string
	IconMediaType             string
	IconName                  string // alt text of the icon (avatar)
	ImageURL                  string
	ImageMediaType            string
	ImageName                 string // alt text of the header image
	ManuallyApprovesFollowers bool
	Discoverable              bool
	PostingRestrictedToMods   bool
	Published                 time.Time
	Fields                    []PropertyValue // schema:PropertyValue attachments
	AlsoKnownAs               []string
}

// PropertyValue is a profile field; Value is HTML (for example a rel="me" link).
type PropertyValue struct {
	Name  string
	Value string
}

// Tag is a Hashtag or Mention in a Note's tag array.
type Tag struct {
	Type string // "Hashtag" or "Mention"
	Href string
	Name string // "#tag" or "@user@host"
}

// Attachment is a media attachment (Document/Image) with alt text in Name.
type Attachment struct {
	Type      string // Document or Image
	MediaType string
	URL       string
	Name      string // alt text
	Width     int
	Height    int
	Blurhash  string
}

// Note is a post we publish.
type Note struct {
	ID           string
	Type         string // "Note" if empty
	AttributedTo string
	Content      string // sanitised HTML
	Language     string // BCP 47; emitted as contentMap {Language: Content}
	Summary      string // content warning (plain text)
	Sensitive    bool
	URL          string // HTML permalink
	InReplyTo    string
	Context      string // FEP-7888 conversation
	Replies      string // IRI of the replies collection
	To           []string
	CC           []string
	Tags         []Tag
	Attachments  []Attachment
	Published    time.Time
	Updated      time.Time // zero: omitted
}

// Tombstone replaces a deleted object.
type Tombstone struct {
	ID         string
	FormerType string
	Published  time.Time // zero: omitted
	Updated    time.Time // zero: omitted
	Deleted    time.Time
}

// Activity is an activity we publish. Object is one of: string (an IRI),
// *Note, *Tombstone, *Actor, *Activity (for example the Follow inside an
// Accept), or json.RawMessage (an already-encoded object; its @context, if
// any, is dropped when embedded).
type Activity struct {
	ID     string
	Type   string // Create, Update, Delete, Accept, Reject, Announce, Undo, Follow …
	Actor  string
	Object any
	// Objects is several object IRIs, for a Flag: Mastodon reads
	// object = [account, status…] (set instead of Object).
	Objects []string
	// Content is the activity's own text, for a Flag: the reason shown
	// to the receiving server's moderators.
	Content   string
	Target    string
	To        []string
	CC        []string
	Published time.Time // zero: omitted
}

// OrderedCollection is a collection root. Either First (an IRI of the first
// page, for paged collections) or Items (inline, for small ones) is set.
type OrderedCollection struct {
	ID          string
	Type        string // "OrderedCollection" if empty
	TotalItems  int
	First       string
	Last        string
	Items       []json.RawMessage // inline items, see OrderedCollectionPage.Items
	InlineItems bool              // emit orderedItems even when Items is empty
}

// OrderedCollectionPage is one page of a paged collection. Each item is a
// JSON string (an IRI) or a JSON object (an embedded activity or object,
// whose @context is dropped when encoding).
type OrderedCollectionPage struct {
	ID         string
	PartOf     string
	Next       string
	Prev       string
	TotalItems int
	Items      []json.RawMessage
	// ItemsEncodedHere says the items were written by this package's
	// encoders (arrays already forced), so only their @context is dropped,
	// without decoding them.
	ItemsEncodedHere bool
}
