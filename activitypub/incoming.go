package activitypub

// Limits bound the work done on an untrusted document before and while it
// is decoded.
type Limits struct {
	MaxBytes int64 // default 1 MiB
	MaxDepth int   // default 32
}

// DefaultLimits are used when a zero Limits is passed.
var DefaultLimits = Limits{MaxBytes: 1 << 20, MaxDepth: 32}

// Incoming is a decoded activity received from a peer. Raw keeps the whole
// JSON object, because go-fed v1.0.0 lacks terms we need.
type Incoming struct {
	ID     string // may be empty for transient activities (GoToSocial Delete)
	Type   string // exactly one type
	Actor  string // the actor IRI (an embedded actor is reduced to its id)
	Object ObjectRef
	Target string
	To     []string
	CC     []string
	Raw    map[string]any
}

// ObjectRef is an activity's object: an IRI, or an embedded object.
type ObjectRef struct {
	ID           string
	Type         string // empty when only an IRI was given
	AttributedTo string // for embedded objects
	Embedded     bool
	Raw          map[string]any // the embedded object, nil for an IRI
	Activity     *Incoming      // set when the embedded object is itself an activity (Undo{Follow}, Announce{Create})
}
