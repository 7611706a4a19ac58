package fedtest

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Serve serves doc at GET iri (which must be on this server under
// /objects/), like a Mastodon status or replies collection. Serving again
// replaces the document; a nil doc answers 404.
func (s *Server) Serve(iri string, doc any) {
	u, err := url.Parse(iri)
	if err != nil || !strings.HasPrefix(u.Path, "/objects/") {
		panic("fedtest: Host needs an IRI under /objects/: " + iri)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.objects == nil {
		s.objects, s.objectGets = map[string]any{}, map[string]int{}
	}
	key := u.Path
	if u.RawQuery != "" {
		key += "?" + u.RawQuery
	}
	s.objects[key] = doc
}

// ObjectGets counts the GETs of hosted documents whose path starts with prefix.
func (s *Server) ObjectGets(prefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for p, c := range s.objectGets {
		if strings.HasPrefix(p, prefix) {
			n += c
		}
	}
	return n
}

func (s *Server) serveObject(w http.ResponseWriter, r *http.Request) {
	if !s.checkFetchSignature(w, r) {
		return
	}
	key := r.URL.Path
	if r.URL.RawQuery != "" {
		key += "?" + r.URL.RawQuery
	}
	s.mu.Lock()
	doc, ok := s.objects[key]
	if s.objectGets != nil {
		s.objectGets[key]++
	}
	s.mu.Unlock()
	if !ok || doc == nil {
		http.NotFound(w, r)
		return
	}
	if rd, ok := doc.(Redirect); ok {
		http.Redirect(w, r, rd.Location, http.StatusFound)
		return
	}
	if f, ok := doc.(File); ok {
		w.Header().Set("Content-Type", f.Type)
		_, _ = w.Write(f.Body)
		return
	}
	writeJSON(w, ActivityJSON, http.StatusOK, doc)
}

// ObjectID returns the IRI of a hosted object: URL + "/objects/" + name.
func (s *Server) ObjectID(name string) string { return s.URL + "/objects/" + name }

// Note returns a Mastodon-shaped public Note by user, hosted at
// ObjectID(name), replying to inReplyTo ("" for none) and mentioning the
// given actors; its replies collection is ObjectID(name+"/replies")
// (served, empty, until served otherwise).
func (s *Server) Note(user, name, inReplyTo, content string, mentions ...string) map[string]any {
	s.mustUser(user)
	id := s.ObjectID(name)
	cc := []any{s.ActorID(user) + "/followers"}
	var tags []any
	for _, m := range mentions {
		cc = append(cc, m)
		tags = append(tags, map[string]any{"type": "Mention", "href": m, "name": "@" + m[strings.LastIndex(m, "/")+1:]})
	}
	n := map[string]any{
		"@context":     ContextAS,
		"id":           id,
		"type":         "Note",
		"attributedTo": s.ActorID(user),
		"content":      content,
		"contentMap":   map[string]any{"sv": content},
		"to":           []any{Public},
		"cc":           cc,
		"tag":          tags,
		"published":    "2026-01-02T03:04:05Z",
		"url":          id,
		"replies": map[string]any{"id": id + "/replies", "type": "Collection",
			"first": map[string]any{"type": "CollectionPage", "partOf": id + "/replies", "items": []any{}}},
	}
	if inReplyTo != "" {
		n["inReplyTo"] = inReplyTo
	} else {
		n["inReplyTo"] = nil
	}
	s.Serve(id, n)
	s.Serve(id+"/replies", n["replies"])
	return n
}

// Wrap returns a Create, Update or Delete of obj by user, with obj
// embedded (Delete embeds a Tombstone of obj's id).
func (s *Server) Wrap(typ, user string, obj map[string]any) map[string]any {
	s.mustUser(user)
	id, _ := obj["id"].(string)
	var o any = obj
	inner := make(map[string]any, len(obj))
	for k, v := range obj {
		if k != "@context" {
			inner[k] = v
		}
	}
	o = inner
	if typ == "Delete" {
		o = map[string]any{"id": id, "type": "Tombstone"}
	}
	return map[string]any{
		"@context": ContextAS,
		"id":       fmt.Sprintf("%s/activity/%s/%d", id, strings.ToLower(typ), s.next()),
		"type":     typ,
		"actor":    s.ActorID(user),
		"object":   o,
		"to":       obj["to"],
		"cc":       obj["cc"],
	}
}

// Redirect is a document to Serve that answers 302 Found to Location.
type Redirect struct {
	Location string
}

// File is a non-JSON document to Serve (an image).
type File struct {
	Type string
	Body []byte
}
