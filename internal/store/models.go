package store

import (
	"strings"
	"time"
)

// User is a staff account.
type User struct {
	ID                 int64
	Username           string
	Role               string
	PasswordHash       string
	TOTPSecret         string `gorm:"column:totp_secret"`
	TOTPEnabled        bool   `gorm:"column:totp_enabled"`
	TOTPLastStep       int64  `gorm:"column:totp_last_step"` // last accepted time step: a code is used once
	Disabled           bool
	MustChangePassword bool
	Locale             string // interface language chosen by the account; "" follows the browser
	Languages          string // languages the person reads, comma-separated ("sv,fi"): cases are routed by them
	Email              string // where alerts are mailed; "" for none
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// Reads reports whether the person reads lang.
func (u *User) Reads(lang string) bool {
	for _, l := range strings.Split(u.Languages, ",") {
		if l != "" && l == lang {
			return true
		}
	}
	return false
}

// Session is a signed-in staff member's session. ID is the hex SHA-256 of
// the token in the cookie; the token itself is never stored.
type Session struct {
	ID         string `gorm:"primaryKey"`
	UserID     int64
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	UserAgent  string
	IP         string `gorm:"column:ip"`
	TOTPPassed bool   `gorm:"column:totp_passed"`
}

// LoginAttempt is one sign-in attempt, kept to throttle guessing.
type LoginAttempt struct {
	ID       int64
	At       time.Time
	Username string
	IP       string `gorm:"column:ip"`
	Success  bool
}

// GroupStaff assigns a staff member to a group with a role there.
type GroupStaff struct {
	GroupID int64 `gorm:"primaryKey;autoIncrement:false"`
	UserID  int64 `gorm:"primaryKey;autoIncrement:false"`
	Role    string
	// Responsible marks the named staff who answer for the group (every
	// group has at least one).
	Responsible bool
	CreatedAt   time.Time
}

// TableName keeps gorm from pluralising.
func (GroupStaff) TableName() string { return "group_staff" }

// AuditEntry is one row of the append-only audit log.
type AuditEntry struct {
	ID        int64
	At        time.Time
	UserID    *int64
	Username  string
	Action    string
	Target    string
	IP        string `gorm:"column:ip"`
	UserAgent string
	Detail    string
}

// TableName is audit_log.
func (AuditEntry) TableName() string { return "audit_log" }

// Group is a local Group actor. Its key pair never changes once created.
type Group struct {
	ID             int64
	Slug           string
	Name           string
	Purpose        string
	Summary        string
	Language       string
	WebsiteURL     string
	OwningUnit     string // the unit of the organisation that provides the group
	Fields         string // JSON array of {"name","value"} profile fields
	ManualApproval bool
	Discoverable   bool
	DiscussionMode string // ModeAnnouncements, ModeModerated or ModeOpen
	PrivateKeyPEM  string
	PublicKeyPEM   string
	AvatarMediaID  *int64
	AvatarAlt      string
	HeaderMediaID  *int64
	HeaderAlt      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	ClosedAt       *time.Time // closed groups stay readable and take no new posts
	ClosedExportID *int64     // the archive export that covered the group's whole life

	// Avatar and Header are the media rows of AvatarMediaID and
	// HeaderMediaID, loaded with the group (nil when unset).
	Avatar *Media `gorm:"-"`
	Header *Media `gorm:"-"`
}

// RemoteActor caches an actor from another server.
type RemoteActor struct {
	ID                int64
	IRI               string `gorm:"column:iri"`
	Type              string
	Host              string
	KeyID             string
	PublicKeyPEM      string
	Inbox             string
	SharedInbox       string
	PreferredUsername string
	Name              string
	Raw               string
	FetchedAt         time.Time
	GoneAt            *time.Time
}

// Follower states.
const (
	FollowPending  = "pending"
	FollowAccepted = "accepted"
)

// Follower is a remote actor following a group.
type Follower struct {
	ID          int64
	GroupID     int64
	ActorIRI    string `gorm:"column:actor_iri"`
	Inbox       string
	SharedInbox string
	Host        string
	FollowIRI   string `gorm:"column:follow_iri"`
	State       string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Post is an official post published by a group.
type Post struct {
	ID           int64
	PublicID     string
	GroupID      int64
	AuthorUserID *int64
	Source       string
	ContentHTML  string `gorm:"column:content_html"`
	Summary      string
	Language     string
	Mentions     string // JSON array of {"name":"@user@host","href":actor IRI}
	Attachments  string // JSON array of the attached media as federated (see federation)
	InReplyTo    string // IRI of the note a staff reply answers ("" for a top-level post)
	Version      int
	PublishedAt  time.Time
	EditedAt     *time.Time
	DeletedAt    *time.Time
	PinnedAt     *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Draft states. A published draft keeps its row (and post_id) for the
// record; a discarded one too.
const (
	DraftDraft     = "draft"
	DraftScheduled = "scheduled"
	DraftPublished = "published"
	DraftDiscarded = "discarded"
)

// Draft is a post not yet published: a draft, or one scheduled for a time.
// It lives outside posts so that nothing public can show it.
type Draft struct {
	ID           int64
	PublicID     string
	GroupID      int64
	AuthorUserID *int64
	State        string
	Source       string
	Summary      string
	Language     string
	ScheduledAt  *time.Time
	Attempts     int
	LastError    string
	LockedUntil  *time.Time
	LockedBy     string
	PostID       *int64
	Media        string // JSON array of the images to attach ({"PublicID","Alt"}), unattached until published
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// PostVersion is one version of a post, kept for the record.
type PostVersion struct {
	ID           int64
	PostID       int64
	Version      int
	Source       string
	ContentHTML  string `gorm:"column:content_html"`
	Summary      string
	Language     string
	Mentions     string
	Attachments  string
	AuthorUserID *int64
	CreatedAt    time.Time
}

// Activity is an activity we published, kept as sent.
type Activity struct {
	ID        int64
	IRI       string `gorm:"column:iri"`
	GroupID   *int64
	Type      string
	ObjectIRI string `gorm:"column:object_iri"`
	InOutbox  bool
	JSON      string `gorm:"column:json"`
	CreatedAt time.Time
}

// Delivery states.
const (
	DeliveryPending = "pending"
	DeliveryDone    = "done"
	DeliveryFailed  = "failed"
	DeliveryGone    = "gone"
)

// Delivery is one activity to one inbox.
type Delivery struct {
	ID            int64
	ActivityID    int64
	Inbox         string
	Host          string
	Status        string
	Attempts      int
	NextAttemptAt time.Time
	LockedUntil   *time.Time
	LockedBy      string
	LastStatus    int
	LastError     string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Inbox item states.
const (
	InboxPending   = "pending"
	InboxProcessed = "processed"
	InboxIgnored   = "ignored"
	InboxFailed    = "failed"
)

// InboxItem is an activity received at an inbox, stored before we answer.
type InboxItem struct {
	ID            int64
	ActivityIRI   *string `gorm:"column:activity_iri"`
	GroupID       *int64
	ActorIRI      string `gorm:"column:actor_iri"`
	KeyID         string
	Type          string
	Raw           string
	Status        string
	Reason        string
	Attempts      int
	NextAttemptAt time.Time
	LockedUntil   *time.Time
	LockedBy      string
	ReceivedAt    time.Time
	ProcessedAt   *time.Time
}

// Domain is the delivery health of one remote host.
type Domain struct {
	Host                string `gorm:"primaryKey"`
	ConsecutiveFailures int
	UnreachableSince    *time.Time
	NextProbeAt         *time.Time
	LastSuccessAt       *time.Time
	LastSeenAt          *time.Time
	UpdatedAt           time.Time
}

// Setting is a key/value row (the instance actor's key lives here).
type Setting struct {
	Key       string `gorm:"primaryKey"`
	Value     string
	UpdatedAt time.Time
}

// Media is an uploaded image, processed (metadata stripped) and stored in
// two sizes in the media storage under LargeKey and SmallKey. The upload
// itself is never kept: it may carry EXIF and GPS data. A medium is
// unattached (PostID nil) from upload until a post is published with it.
type Media struct {
	ID             int64
	PublicID       string
	GroupID        int64
	UploaderUserID *int64
	LargeKey       string
	SmallKey       string
	MediaType      string
	Width          int
	Height         int
	SmallWidth     int
	SmallHeight    int
	Blurhash       string
	AltText        string
	ByteSize       int64
	CreatedAt      time.Time
	PostID         *int64
	Position       int
}

// TableName is media.
func (Media) TableName() string { return "media" }

// Discussion modes of a group: what happens to what residents send it.
const (
	// ModeAnnouncements: replies are shown on the web once the rules
	// pass, but never announced to followers.
	ModeAnnouncements = "announcements"
	// ModeModerated: everything waits for a moderator before it is
	// shown or announced.
	ModeModerated = "moderated"
	// ModeOpen: the rules run automatically; accepted items are shown and
	// announced at once, moderated afterwards.
	ModeOpen = "open"
)

// ValidDiscussionMode reports whether m is one of the modes.
func ValidDiscussionMode(m string) bool {
	return m == ModeAnnouncements || m == ModeModerated || m == ModeOpen
}

// Remote note states.
const (
	NoteVisible  = "visible"  // shown on the group's pages
	NoteHeld     = "held"     // waits for a moderator
	NoteHidden   = "hidden"   // kept, not shown
	NoteRejected = "rejected" // refused; kept for the record
)

// RemoteNote is a resident's post (Note, Page, Article…) in a group's
// conversation: a reply to a group post or to a reply in its threads, or a
// post that mentions or addresses the group. ContentHTML is sanitised.
type RemoteNote struct {
	ID          int64
	IRI         string `gorm:"column:iri"`
	GroupID     int64
	Type        string
	AuthorIRI   string `gorm:"column:author_iri"`
	AuthorHost  string
	URL         string `gorm:"column:url"`
	InReplyTo   string // parent IRI ("" for a top-level mention)
	RootIRI     string `gorm:"column:root_iri"` // IRI of the thread's first post
	PostID      *int64 // the group post at the root of the thread, if any
	Depth       int    // 0 for a top-level item, 1 for a reply to it…
	Summary     string // content warning, plain text
	ContentHTML string `gorm:"column:content_html"`
	Language    string
	Sensitive   bool
	Attachments string // JSON array of NoteAttachment
	RepliesIRI  string `gorm:"column:replies_iri"` // its replies collection, for backfill
	Via         string // how it arrived: "inbox" or "backfill"
	State       string // NoteVisible, NoteHeld, NoteHidden, NoteRejected
	Verdict     string // the screener's action (moderation.Action)
	Matches     string // JSON array of moderation.Match
	Raw         string // the object as received
	Version     int
	PublishedAt time.Time
	EditedAt    *time.Time
	DeletedAt   *time.Time
	AnnouncedAt *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// NoteAttachment is one media attachment of a remote note, kept as a link.
type NoteAttachment struct {
	URL       string `json:"url"`
	MediaType string `json:"mediaType,omitempty"`
	Name      string `json:"name,omitempty"` // alt text
}

// Kinds of NoteAnnounce.
const (
	AnnounceActivity = "activity" // Announce{Create} (FEP-1b12)
	AnnounceObject   = "object"   // plain Announce of the note (Mastodon, Pleroma)
	AnnounceUpdate   = "update"   // Announce{Update}
	AnnounceDelete   = "delete"   // Announce{Delete}
)

// NoteAnnounce is one Announce a group sent about a remote note; removing
// the note federates Undo{Announce} for each.
type NoteAnnounce struct {
	ID          int64
	NoteID      int64
	ActivityIRI string `gorm:"column:activity_iri"`
	Kind        string
	CreatedAt   time.Time
}

// Reaction is a Like, EmojiReact or Announce of a group post or a note.
type Reaction struct {
	ID          int64
	ActivityIRI string `gorm:"column:activity_iri"`
	GroupID     int64
	ObjectIRI   string `gorm:"column:object_iri"`
	ActorIRI    string `gorm:"column:actor_iri"`
	Type        string // Like, EmojiReact or Announce
	Content     string // the emoji of an EmojiReact
	CreatedAt   time.Time
}
