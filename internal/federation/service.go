// Package federation connects the store to the ActivityPub protocol: it
// renders local actors and posts, publishes activities through the
// delivery queue, verifies and stores what arrives at our inboxes, and
// applies it.
package federation

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/text/language"

	"github.com/torget/torget/activitypub"
	"github.com/torget/torget/activitypub/transport"
	"github.com/torget/torget/internal/markup"
	"github.com/torget/torget/internal/store"
	"github.com/torget/torget/internal/uris"
)

// Options configure a Service.
type Options struct {
	Limits             activitypub.Limits
	SignatureMaxAge    time.Duration
	SignatureMaxFuture time.Duration
	ActorCacheTTL      time.Duration
	Now                func() time.Time
	// Wake is called after activities were queued for delivery, so that
	// the local delivery workers start at once instead of at their next poll.
	WakeDelivery func()
	// WakeInbox is called after an inbox item was stored.
	WakeInbox func()
	// StoreInbox stores a received activity before it is acknowledged
	// (group commit in production); the store's InsertInboxItem by default.
	StoreInbox func(ctx context.Context, it *store.InboxItem) (bool, error)
	// Gate refuses rejected servers and blocked authors at the inbox
	// (moderation.go); nil lets everyone through.
	Gate InboundGate
	// Screener applies the moderation rules to residents' posts; nil
	// accepts all.
	Screener Screener
	// Unsupervised, when set, says whether a group's supervision has
	// lapsed; new replies that would be shown are then held for review
	// (LIV-2, cases.hold_when_unsupervised).
	Unsupervised func(ctx context.Context, g *store.Group) (bool, error)
}

// GroupHook is told, inside the transaction, that a group was created
// ("created") or closed ("closed"), e.g. to notify the central
// communications role (ID-6); Wake is called after the commit.
type GroupHook interface {
	GroupChanged(ctx context.Context, tx *store.Store, event string, g *store.Group) error
	Wake()
}

// SetGroupHook installs the receiver of group events.
func (s *Service) SetGroupHook(h GroupHook) { s.groupHook = h }

func (s *Service) groupChanged(ctx context.Context, tx *store.Store, event string, g *store.Group) error {
	if s.groupHook == nil {
		return nil
	}
	return s.groupHook.GroupChanged(ctx, tx, event, g)
}

// Service is the federation core.
type Service struct {
	store  *store.Store
	uris   uris.Builder
	client *transport.Client
	render *markup.Renderer
	log    *slog.Logger
	opt    Options

	instanceKey *rsa.PrivateKey
	instancePub string

	groupKeys sync.Map // group id → *rsa.PrivateKey
	keys      *keyCache
	groups    groupCache
	counts    followerCounts

	contentVersion atomic.Uint64
	screener       atomic.Pointer[screenerBox]
	backfilled     recentReads
	media          mediaCache
	mediaKeyOnce   sync.Once
	mediaSecret    []byte // replies collection → when it was last read

	instanceJSON []byte

	inquiries InquiryHook // questions to groups become cases (inquiry.go)
	groupHook GroupHook   // group created or closed
}

// New returns a Service. Call Init before use.
func New(st *store.Store, u uris.Builder, client *transport.Client, log *slog.Logger, opt Options) *Service {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Limits.MaxBytes == 0 {
		opt.Limits = activitypub.DefaultLimits
	}
	if opt.SignatureMaxAge == 0 {
		opt.SignatureMaxAge = 65 * time.Minute
	}
	if opt.SignatureMaxFuture == 0 {
		opt.SignatureMaxFuture = time.Hour
	}
	if opt.ActorCacheTTL == 0 {
		opt.ActorCacheTTL = 24 * time.Hour
	}
	if opt.WakeDelivery == nil {
		opt.WakeDelivery = func() {}
	}
	if opt.WakeInbox == nil {
		opt.WakeInbox = func() {}
	}
	if opt.StoreInbox == nil {
		opt.StoreInbox = st.InsertInboxItem
	}
	s := &Service{store: st, uris: u, client: client, log: log, opt: opt,
		render: markup.New(u.Tag), keys: newKeyCache(20000)}
	s.screener.Store(&screenerBox{opt.Screener})
	return s
}

// URIs returns the id builder.
func (s *Service) URIs() uris.Builder { return s.uris }

// Store returns the store.
func (s *Service) Store() *store.Store { return s.store }

const instanceKeySetting = "instance_actor_private_key"

// Init loads the instance actor's key, creating it on first start. The key
// never changes afterwards: peers such as GoToSocial refuse a changed key.
func (s *Service) Init(ctx context.Context) error {
	v, err := s.store.Setting(ctx, instanceKeySetting)
	if errors.Is(err, store.ErrNotFound) {
		priv, _, gerr := GenerateKeyPair()
		if gerr != nil {
			return gerr
		}
		v, err = s.store.SetSettingIfAbsent(ctx, instanceKeySetting, priv)
	}
	if err != nil {
		return fmt.Errorf("load instance key: %w", err)
	}
	k, err := ParsePrivateKey(v)
	if err != nil {
		return fmt.Errorf("instance key: %w", err)
	}
	s.instanceKey = k
	if s.instancePub, err = publicPEM(k); err != nil {
		return err
	}
	s.instanceJSON, err = activitypub.EncodeActor(s.InstanceActor())
	return err
}

// InstanceActor renders the server's Application actor, which signs
// server-level fetches.
func (s *Service) InstanceActor() *activitypub.Actor {
	u := s.uris
	return &activitypub.Actor{
		ID: u.InstanceActor(), Type: "Application", PreferredUsername: u.Domain,
		Name: u.Domain, Summary: "<p>Instance actor of " + html.EscapeString(u.Domain) + "</p>",
		URL: u.Base + "/", Inbox: u.InstanceInbox(), Outbox: u.InstanceActor() + "/outbox", SharedInbox: u.SharedInbox(),
		PublicKeyID: u.InstanceKey(), PublicKeyOwner: u.InstanceActor(), PublicKeyPEM: s.instancePub,
		ManuallyApprovesFollowers: true,
	}
}

// InstanceKey returns the key id and key the instance actor signs with.
func (s *Service) InstanceKey() (string, *rsa.PrivateKey) { return s.uris.InstanceKey(), s.instanceKey }

// GroupKey returns a group's signing key (cached).
func (s *Service) GroupKey(g *store.Group) (string, *rsa.PrivateKey, error) {
	if k, ok := s.groupKeys.Load(g.ID); ok {
		return s.uris.GroupKey(g.Slug), k.(*rsa.PrivateKey), nil
	}
	k, err := ParsePrivateKey(g.PrivateKeyPEM)
	if err != nil {
		return "", nil, fmt.Errorf("group %s key: %w", g.Slug, err)
	}
	s.groupKeys.Store(g.ID, k)
	return s.uris.GroupKey(g.Slug), k, nil
}

// SlugPattern is what a group slug may look like: it is the WebFinger
// username, so keep it to what every server accepts.
var SlugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// GroupInput describes a new group, or the new state of one.
type GroupInput struct {
	Slug, Name, Purpose, Summary, Language, WebsiteURL string
	// OwningUnit is the unit of the organisation that provides the group
	// ("Stadsdelsförvaltning Hägersten-Älvsjö"); required.
	OwningUnit string
	// Responsible names (by username) the staff who answer for the group;
	// at least one. On UpdateGroup, nil keeps the current ones.
	Responsible []string
	// Fields are profile fields shown on the group's profile (at most
	// MaxGroupFields); a value that is an http(s) URL becomes a rel="me" link.
	Fields         []Field
	ManualApproval bool
}

// Field is one name/value profile field.
type Field struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Limits of profile fields (Mastodon's, so that its servers show them all).
const (
	MaxGroupFields   = 4
	maxFieldName     = 255
	maxFieldValue    = 2047
	maxOwningUnitLen = 200
)

// GroupFields decodes a group's stored profile fields.
func GroupFields(g *store.Group) []Field {
	var fs []Field
	if g.Fields != "" {
		_ = json.Unmarshal([]byte(g.Fields), &fs)
	}
	return fs
}

// ErrInvalid wraps validation errors (shown to the operator as they are).
var ErrInvalid = errors.New("invalid")

// validateGroup checks and normalises what staff may set on a group (the
// slug is checked by CreateGroup only: it never changes).
func validateGroup(in *GroupInput) []string {
	var problems []string
	in.Name, in.Purpose, in.Summary = strings.TrimSpace(in.Name), strings.TrimSpace(in.Purpose), strings.TrimSpace(in.Summary)
	in.WebsiteURL, in.OwningUnit = strings.TrimSpace(in.WebsiteURL), strings.TrimSpace(in.OwningUnit)
	if in.Name == "" {
		problems = append(problems, "name is required")
	}
	if in.Purpose == "" {
		problems = append(problems, "purpose is required: say what the group is for")
	}
	if in.OwningUnit == "" {
		problems = append(problems, "owning unit is required: say which unit provides the group")
	} else if utf8.RuneCountInString(in.OwningUnit) > maxOwningUnitLen {
		problems = append(problems, fmt.Sprintf("owning unit is longer than %d characters", maxOwningUnitLen))
	}
	if in.WebsiteURL != "" {
		if _, err := activitypub.ParseIRI(in.WebsiteURL); err != nil {
			problems = append(problems, "website must be an http(s) URL")
		}
	}
	in.Language = strings.TrimSpace(in.Language)
	if in.Language == "" {
		in.Language = "sv"
	}
	if tag, err := language.Parse(in.Language); err != nil {
		problems = append(problems, "language must be a BCP 47 tag")
	} else {
		in.Language = tag.String()
	}
	var fields []Field
	for _, f := range in.Fields {
		f.Name, f.Value = strings.TrimSpace(f.Name), strings.TrimSpace(f.Value)
		switch {
		case f.Name == "" && f.Value == "":
			continue
		case f.Name == "" || f.Value == "":
			problems = append(problems, "a profile field needs both a name and a value")
		case utf8.RuneCountInString(f.Name) > maxFieldName || utf8.RuneCountInString(f.Value) > maxFieldValue:
			problems = append(problems, fmt.Sprintf("a profile field name may have %d characters, a value %d", maxFieldName, maxFieldValue))
		}
		fields = append(fields, f)
	}
	if len(fields) > MaxGroupFields {
		problems = append(problems, fmt.Sprintf("at most %d profile fields", MaxGroupFields))
	}
	in.Fields = fields
	return problems
}

// responsibleUsers resolves the responsible staff's usernames; unknown and
// disabled accounts are problems.
func (s *Service) responsibleUsers(ctx context.Context, names []string) ([]store.User, []string, error) {
	var users []store.User
	var problems []string
	seen := map[string]bool{}
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		u, err := s.store.UserByName(ctx, n)
		if errors.Is(err, store.ErrNotFound) || (err == nil && u.Disabled) {
			problems = append(problems, fmt.Sprintf("responsible staff %q is not an active staff account", n))
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		users = append(users, *u)
	}
	if len(users) == 0 && len(problems) == 0 {
		problems = append(problems, "at least one responsible staff member is required")
	}
	return users, problems, nil
}

func encodeFields(fs []Field) string {
	if len(fs) == 0 {
		return ""
	}
	b, _ := json.Marshal(fs)
	return string(b)
}

// CreateGroup creates a group with its own key pair. A group cannot exist
// without a stated purpose, an owning unit and at least one responsible
// staff member.
func (s *Service) CreateGroup(ctx context.Context, in GroupInput) (*store.Group, error) {
	in.Slug = strings.TrimSpace(in.Slug)
	var problems []string
	if !ValidSlug(in.Slug) {
		problems = append(problems, "slug must be 1-63 lowercase letters, digits, '-' or '_'")
	}
	problems = append(problems, validateGroup(&in)...)
	users, more, err := s.responsibleUsers(ctx, in.Responsible)
	if err != nil {
		return nil, err
	}
	problems = append(problems, more...)
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrInvalid, strings.Join(problems, "; "))
	}
	priv, pub, err := GenerateKeyPair()
	if err != nil {
		return nil, err
	}
	g := &store.Group{Slug: in.Slug, Name: in.Name, Purpose: in.Purpose,
		Summary: in.Summary, Language: in.Language, WebsiteURL: in.WebsiteURL, OwningUnit: in.OwningUnit, Fields: encodeFields(in.Fields),
		ManualApproval: in.ManualApproval, Discoverable: true, PrivateKeyPEM: priv, PublicKeyPEM: pub}
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.CreateGroup(ctx, g); err != nil {
			return err
		}
		if err := tx.SetResponsibleStaff(ctx, g.ID, users); err != nil {
			return err
		}
		if err := s.groupChanged(ctx, tx, "created", g); err != nil {
			return err
		}
		body, err := activitypub.EncodeActor(s.GroupActor(g))
		if err != nil {
			return err
		}
		return tx.AppendRecord(ctx, &store.RecordEntry{Kind: store.KindGroupCreate, Direction: store.DirInternal, GroupID: &g.ID,
			Actor: store.RecordActor(ctx), ObjectIRI: s.uris.Group(g.Slug), Payload: string(body)})
	})
	if err != nil {
		return nil, err
	}
	s.groups.forget(g.Slug)
	s.contentChanged()
	if s.groupHook != nil {
		s.groupHook.Wake()
	}
	return g, nil
}

// UpdateGroup edits a group's profile, validated as CreateGroup validates
// it. The slug (in.Slug is ignored) and the key pair never change. The
// change and an Update of the Group actor, queued for every follower so
// that their servers refresh the profile, are stored in one transaction.
// After the edit the group must have a responsible staff member (a group
// from before they existed gets one at its first edit).
func (s *Service) UpdateGroup(ctx context.Context, slug string, in GroupInput) (*store.Group, error) {
	g, err := s.store.GroupBySlug(ctx, slug)
	if err != nil {
		return nil, err
	}
	problems := validateGroup(&in)
	var users []store.User
	if in.Responsible != nil {
		var more []string
		if users, more, err = s.responsibleUsers(ctx, in.Responsible); err != nil {
			return nil, err
		}
		problems = append(problems, more...)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrInvalid, strings.Join(problems, "; "))
	}
	g.Name, g.Purpose, g.Summary, g.Language, g.WebsiteURL, g.ManualApproval =
		in.Name, in.Purpose, in.Summary, in.Language, in.WebsiteURL, in.ManualApproval
	g.OwningUnit, g.Fields = in.OwningUnit, encodeFields(in.Fields)
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.UpdateGroup(ctx, g); err != nil {
			return err
		}
		if in.Responsible != nil {
			if err := tx.SetResponsibleStaff(ctx, g.ID, users); err != nil {
				return err
			}
		}
		ms, err := tx.ListGroupStaff(ctx, g.ID)
		if err != nil {
			return err
		}
		if !anyResponsible(ms) {
			return fmt.Errorf("%w: at least one responsible staff member is required", ErrInvalid)
		}
		actor := s.GroupActor(g)
		act := &activitypub.Activity{ID: s.uris.Activity(newID(16)), Type: "Update", Actor: actor.ID, Object: actor,
			To: []string{activitypub.PublicIRI}, CC: []string{actor.Followers}, Published: g.UpdatedAt.UTC()}
		return s.queue(ctx, tx, g, act, actor.ID, false, nil)
	})
	if err != nil {
		return nil, fmt.Errorf("update group %s: %w", slug, err)
	}
	s.groups.forget(g.Slug)
	s.contentChanged()
	s.opt.WakeDelivery()
	return g, nil
}

func anyResponsible(ms []store.GroupStaffMember) bool {
	for _, m := range ms {
		if m.Responsible {
			return true
		}
	}
	return false
}

// GroupActor renders a group as an ActivityPub Group actor.
func (s *Service) GroupActor(g *store.Group) *activitypub.Actor {
	u := s.uris
	summary := "<p>" + html.EscapeString(firstNonEmpty(g.Summary, g.Purpose)) + "</p>"
	a := &activitypub.Actor{
		ID: u.Group(g.Slug), Type: "Group", PreferredUsername: g.Slug, Name: g.Name, Summary: summary,
		URL: u.Group(g.Slug), Inbox: u.GroupInbox(g.Slug), Outbox: u.GroupOutbox(g.Slug),
		Followers: u.Followers(g.Slug), Following: u.Following(g.Slug), Featured: u.Featured(g.Slug),
		Moderators: u.Moderators(g.Slug), SharedInbox: u.SharedInbox(),
		PublicKeyID: u.GroupKey(g.Slug), PublicKeyOwner: u.Group(g.Slug), PublicKeyPEM: g.PublicKeyPEM,
		IconURL: u.Base + "/static/group-icon.png", IconMediaType: "image/png",
		ImageURL: u.Base + "/static/group-header.png", ImageMediaType: "image/png",
		ManuallyApprovesFollowers: g.ManualApproval, Discoverable: g.Discoverable, Published: g.CreatedAt,
		Fields: []activitypub.PropertyValue{{Name: "Syfte", Value: html.EscapeString(g.Purpose)}},
	}
	if m := g.Avatar; m != nil {
		a.IconURL, a.IconMediaType, a.IconName = u.Media(m.SmallKey), m.MediaType, g.AvatarAlt
	}
	if m := g.Header; m != nil {
		a.ImageURL, a.ImageMediaType, a.ImageName = u.Media(m.LargeKey), m.MediaType, g.HeaderAlt
	}
	if g.ClosedAt != nil {
		closed := "Gruppen är stängd sedan " + g.ClosedAt.UTC().Format("2006-01-02") + " och tar inte emot nya inlägg."
		a.Summary = "<p>" + html.EscapeString(closed) + "</p>" + a.Summary
		a.Fields = append(a.Fields, activitypub.PropertyValue{Name: "Status", Value: "Stängd " + g.ClosedAt.UTC().Format("2006-01-02")})
	}
	if g.OwningUnit != "" {
		a.Fields = append(a.Fields, activitypub.PropertyValue{Name: "Tillhandahålls av", Value: html.EscapeString(g.OwningUnit)})
	}
	if g.WebsiteURL != "" {
		a.Fields = append(a.Fields, activitypub.PropertyValue{Name: "Webbplats", Value: meLink(g.WebsiteURL)})
	}
	for _, f := range GroupFields(g) {
		v := html.EscapeString(f.Value)
		if _, err := activitypub.ParseIRI(f.Value); err == nil {
			v = meLink(f.Value)
		}
		a.Fields = append(a.Fields, activitypub.PropertyValue{Name: f.Name, Value: v})
	}
	return a
}

// meLink renders a profile link the way Mastodon verifies it: rel="me".
func meLink(u string) string {
	e := html.EscapeString(u)
	return `<a href="` + e + `" rel="me nofollow noopener" target="_blank">` + e + `</a>`
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newID returns a random, URL-safe id of n bytes of entropy.
func newID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return idEncoding.EncodeToString(b)
}

// reservedSlugs would collide with CLI words, well-known names or staff
// pages (/staff/groups/new).
var reservedSlugs = map[string]bool{"actor": true, "edit": true, "delete": true, "admin": true, "inbox": true, "new": true}

// ValidSlug reports whether slug may name a new group.
func ValidSlug(slug string) bool { return SlugPattern.MatchString(slug) && !reservedSlugs[slug] }
