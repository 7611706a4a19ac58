package federation

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/torget/torget/activitypub"
	"github.com/torget/torget/internal/markup"
	"github.com/torget/torget/internal/store"
)

// maxMentions bounds the WebFinger and actor fetches one post may cause.
const maxMentions = 20

// mention is a resolved @user@host.
type mention struct {
	Name  string `json:"name"` // "@user@host"
	Href  string `json:"href"` // actor id
	inbox string
	host  string
}

// resolveMentions looks up each mentioned account (WebFinger, then the
// actor) so that it can be tagged, addressed and delivered to. A mention
// that does not resolve stays plain text: publishing never fails on it.
func (s *Service) resolveMentions(ctx context.Context, ms []markup.Mention) []mention {
	var out []mention
	for i, m := range ms {
		if i >= maxMentions {
			break
		}
		if strings.EqualFold(m.Host, s.uris.Domain) {
			if g, err := s.store.GroupBySlug(ctx, m.User); err == nil {
				out = append(out, mention{Name: "@" + m.Acct(), Href: s.uris.Group(g.Slug)})
			}
			continue
		}
		jrd, err := s.client.LookupWebFinger(ctx, m.Acct(), s.signGET)
		if err != nil {
			s.log.Info("mention not resolved", "acct", m.Acct(), "err", err)
			continue
		}
		self := jrd.SelfHref()
		if self == "" || !activitypub.SameOrigin(self, "https://"+m.Host) && !activitypub.SameOrigin(self, "http://"+m.Host) {
			// The actor may live on another host than the handle's
			// (WebFinger delegation); accept it when WebFinger said so.
			if self == "" {
				continue
			}
		}
		a, err := s.FetchActor(ctx, self, false)
		if err != nil {
			s.log.Info("mention actor not fetched", "acct", m.Acct(), "err", err)
			continue
		}
		inbox := a.SharedInbox
		if inbox == "" {
			inbox = a.Inbox
		}
		out = append(out, mention{Name: "@" + m.Acct(), Href: a.IRI, inbox: inbox, host: a.Host})
	}
	return out
}

func encodeMentions(ms []mention) string {
	if len(ms) == 0 {
		return ""
	}
	b, _ := json.Marshal(ms)
	return string(b)
}

func decodeMentions(s string) []mention {
	var ms []mention
	if s != "" {
		_ = json.Unmarshal([]byte(s), &ms)
	}
	return ms
}

func mentionLinks(ms []mention) map[string]string {
	hrefs := map[string]string{}
	for _, m := range ms {
		hrefs[strings.TrimPrefix(m.Name, "@")] = m.Href
	}
	return hrefs
}

// deliverToMentioned queues the activity for mentioned remote actors (one
// row per inbox; followers' shared inboxes are not repeated).
func deliverToMentioned(ctx context.Context, tx *store.Store, activityID int64, ms []mention) error {
	for _, m := range ms {
		if m.inbox == "" {
			continue
		}
		if err := tx.EnqueueDelivery(ctx, activityID, m.inbox, m.host); err != nil {
			return err
		}
	}
	return nil
}
