// Package warc writes WARC 1.1 files (ISO 28500:2017): one gzip member per
// record, as web archives and their tools (warcio, pywb, gowarc) expect.
// It writes only what torget's snapshots need: warcinfo, request and
// response records. Block and payload digests are SHA-1 in base32, the
// form every WARC tool checks.
package warc

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // WARC digests are conventionally SHA-1; the package's fixity is SHA-256 (METS).
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Writer appends records to w.
type Writer struct {
	w        io.Writer
	infoID   string
	n        int
	NewID    func() string // record ids; random UUID URNs by default
	Filename string        // WARC-Filename of the warcinfo record
}

// NewWriter returns a writer appending to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w, NewID: uuidURN} }

// Header is one WARC named field.
type Header struct{ Name, Value string }

// Records is how many records were written.
func (w *Writer) Records() int { return w.n }

// WriteInfo writes the warcinfo record (first, once); later records point
// to it with WARC-Warcinfo-ID.
func (w *Writer) WriteInfo(at time.Time, fields []Header) error {
	if w.infoID != "" || w.n > 0 {
		return errors.New("warc: warcinfo must be the first record")
	}
	var b bytes.Buffer
	for _, f := range fields {
		if err := checkField(f); err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s: %s\r\n", f.Name, f.Value)
	}
	id := w.NewID()
	hs := []Header{{"WARC-Type", "warcinfo"}, {"WARC-Record-ID", id}, {"WARC-Date", date(at)}}
	if w.Filename != "" {
		hs = append(hs, Header{"WARC-Filename", w.Filename})
	}
	hs = append(hs, Header{"Content-Type", "application/warc-fields"})
	if err := w.record(hs, b.Bytes()); err != nil {
		return err
	}
	w.infoID = id
	return nil
}

// Exchange is one HTTP request and its response as sent on the wire.
type Exchange struct {
	URI      string    // WARC-Target-URI
	At       time.Time // when the request was made
	Request  []byte    // the HTTP/1.1 request message
	Response []byte    // the HTTP/1.1 response message: status line, headers, CRLF, body
	Payload  []byte    // the response's entity body (for WARC-Payload-Digest)
}

// WriteExchange writes a response record and the request record that is
// concurrent to it.
func (w *Writer) WriteExchange(x Exchange) error {
	if !strings.Contains(x.URI, "://") || strings.ContainsAny(x.URI, " \r\n<>") {
		return fmt.Errorf("warc: bad target URI %q", x.URI)
	}
	respID, reqID := w.NewID(), w.NewID()
	common := func(typ, id string) []Header {
		hs := []Header{{"WARC-Type", typ}, {"WARC-Record-ID", id}, {"WARC-Date", date(x.At)}, {"WARC-Target-URI", x.URI}}
		if w.infoID != "" {
			hs = append(hs, Header{"WARC-Warcinfo-ID", w.infoID})
		}
		return hs
	}
	resp := append(common("response", respID),
		Header{"WARC-Payload-Digest", Digest(x.Payload)},
		Header{"Content-Type", "application/http;msgtype=response"})
	if err := w.record(resp, x.Response); err != nil {
		return err
	}
	req := append(common("request", reqID),
		Header{"WARC-Concurrent-To", respID},
		Header{"Content-Type", "application/http;msgtype=request"})
	return w.record(req, x.Request)
}

// record writes one record as its own gzip member, with the block digest
// and the exact Content-Length.
func (w *Writer) record(hs []Header, block []byte) error {
	var b bytes.Buffer
	b.WriteString("WARC/1.1\r\n")
	for _, h := range hs {
		if err := checkField(h); err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s: %s\r\n", h.Name, h.Value)
	}
	fmt.Fprintf(&b, "WARC-Block-Digest: %s\r\n", Digest(block))
	fmt.Fprintf(&b, "Content-Length: %s\r\n\r\n", strconv.Itoa(len(block)))
	b.Write(block)
	b.WriteString("\r\n\r\n")
	zw, err := gzip.NewWriterLevel(w.w, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write(b.Bytes()); err != nil {
		return fmt.Errorf("warc: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("warc: %w", err)
	}
	w.n++
	return nil
}

func checkField(h Header) error {
	if h.Name == "" || strings.ContainsAny(h.Name, ": \r\n") || strings.ContainsAny(h.Value, "\r\n") {
		return fmt.Errorf("warc: bad field %q", h.Name)
	}
	return nil
}

// Digest is the WARC digest of b: "sha1:" and the SHA-1 in base32.
func Digest(b []byte) string {
	s := sha1.Sum(b) //nolint:gosec
	return "sha1:" + base32.StdEncoding.EncodeToString(s[:])
}

func date(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func uuidURN() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return "<urn:uuid:" + h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:] + ">"
}
