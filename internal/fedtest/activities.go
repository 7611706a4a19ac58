package fedtest

import "fmt"

// next returns a server-wide sequence number for activity ids.
func (s *Server) next() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return s.seq
}

// Follow returns a Mastodon-shaped Follow of target by user:
// {"@context":AS,"id":ActorID+"#follows/<n>","type":"Follow","actor":…,"object":target}.
func (s *Server) Follow(user, target string) map[string]any {
	s.mustUser(user)
	return map[string]any{
		"@context": ContextAS,
		"id":       fmt.Sprintf("%s#follows/%d", s.ActorID(user), s.next()),
		"type":     "Follow",
		"actor":    s.ActorID(user),
		"object":   target,
	}
}

// Undo returns an Undo of inner by user, embedding inner as Mastodon does.
// Its id is inner's id + "/undo" (ActorID+"#follows/<n>/undo" for a Follow
// built by this server), or ActorID+"#undo/<n>" when inner has no id.
func (s *Server) Undo(user string, inner map[string]any) map[string]any {
	s.mustUser(user)
	id, _ := inner["id"].(string)
	if id == "" {
		id = fmt.Sprintf("%s#undo/%d", s.ActorID(user), s.next())
	} else {
		id += "/undo"
	}
	obj := make(map[string]any, len(inner))
	for k, v := range inner {
		if k != "@context" {
			obj[k] = v
		}
	}
	return map[string]any{
		"@context": ContextAS,
		"id":       id,
		"type":     "Undo",
		"actor":    s.ActorID(user),
		"object":   obj,
	}
}

// DeleteSelf returns the Delete Mastodon sends when user's account is
// deleted: {"id":ActorID+"#delete","type":"Delete","actor":A,"object":A,"to":[Public]}.
func (s *Server) DeleteSelf(user string) map[string]any {
	s.mustUser(user)
	a := s.ActorID(user)
	return map[string]any{
		"@context": []any{ContextAS, ContextSecurity},
		"id":       a + "#delete",
		"type":     "Delete",
		"actor":    a,
		"object":   a,
		"to":       []any{Public},
	}
}

// UpdateSelf returns an Update of user's current actor document, addressed
// to Public, with id ActorID+"#updates/<n>".
func (s *Server) UpdateSelf(user string) map[string]any {
	doc := s.ActorDocument(user)
	delete(doc, "@context")
	a := s.ActorID(user)
	return map[string]any{
		"@context": []any{ContextAS, ContextSecurity},
		"id":       fmt.Sprintf("%s#updates/%d", a, s.next()),
		"type":     "Update",
		"actor":    a,
		"to":       []any{Public},
		"object":   doc,
	}
}
