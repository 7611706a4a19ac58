// Package moderation decides what happens to what residents send a group:
// it evaluates published, versioned rules against an inbound item and
// returns a verdict naming every rule that matched. It judges conduct and
// legality, never viewpoint, and knows nothing of storage or HTTP.
package moderation

import "time"

// Action is what a verdict or a rule does with an item, in rising order of
// severity.
type Action string

// Actions.
const (
	Accept Action = "accept" // shown (and announced where the group's mode allows)
	Hold   Action = "hold"   // waits for a moderator before it is shown or announced
	Hide   Action = "hide"   // kept, not shown, not announced; a moderator may restore it
	Reject Action = "reject" // refused; kept for the record only
)

// Severity orders actions so that the strictest match wins.
func (a Action) Severity() int {
	switch a {
	case Hold:
		return 1
	case Hide:
		return 2
	case Reject:
		return 3
	}
	return 0
}

// Item is one inbound item as the rules see it.
type Item struct {
	GroupID     int64     // local group it was sent to
	AuthorIRI   string    // remote actor IRI
	AuthorHost  string    // lower-case host of the author
	Text        string    // plain text (summary and content), for word rules
	Links       []string  // absolute URLs linked from the content (mentions excluded)
	Mentions    int       // number of mentions
	Media       int       // number of attachments
	KnownAuthor bool      // the group has accepted something from this author before
	Blocked     bool      // the author is under an account block in the group or on the instance
	At          time.Time // when it arrived
}

// Match is one rule that matched an item, and why.
type Match struct {
	RuleID  string // stable rule id, e.g. "bbs-hets" or "g12-links"
	Version int    // the rule's version at evaluation time
	Action  Action
	Why     string // human-readable: which word, domain or limit matched
}

// Verdict is the outcome for one item: the strictest action of all matches
// (Accept when nothing matched), with every match kept for the record.
type Verdict struct {
	Action  Action
	Matches []Match
	// DropMedia: the federation policy of the author's server allows no
	// media; the item is kept without its attachments.
	DropMedia bool
}
