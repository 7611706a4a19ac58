package app_test

import (
	"encoding/base64"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/torget/torget/internal/config"
)

// mailbox is a real SMTP server on loopback (emersion/go-smtp) that keeps
// every message it accepts.
type mailbox struct {
	mu   sync.Mutex
	msgs []received
	srv  *smtp.Server
	Port int
}

// received is one accepted message.
type received struct {
	From    string
	To      []string
	Header  mail.Header
	Subject string
	Body    string
}

func startMailbox(t *testing.T) *mailbox {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveMailbox(t, ln)
}

func serveMailbox(t *testing.T, ln net.Listener) *mailbox {
	t.Helper()
	mb := &mailbox{Port: ln.Addr().(*net.TCPAddr).Port}
	mb.srv = smtp.NewServer(mb)
	mb.srv.Domain = "localhost"
	mb.srv.ReadTimeout, mb.srv.WriteTimeout = 10*time.Second, 10*time.Second
	go func() { _ = mb.srv.Serve(ln) }()
	t.Cleanup(func() { _ = mb.srv.Close() })
	return mb
}

// NewSession implements smtp.Backend.
func (mb *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &mboxSession{mb: mb}, nil }

type mboxSession struct {
	mb   *mailbox
	from string
	to   []string
}

func (s *mboxSession) Reset()        { s.from, s.to = "", nil }
func (s *mboxSession) Logout() error { return nil }
func (s *mboxSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}
func (s *mboxSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *mboxSession) Data(r io.Reader) error {
	m, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(m.Body)
	if err != nil {
		return err
	}
	subj, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		return err
	}
	text, err := decodeBody(m.Header.Get("Content-Transfer-Encoding"), body)
	if err != nil {
		return err
	}
	s.mb.mu.Lock()
	defer s.mb.mu.Unlock()
	s.mb.msgs = append(s.mb.msgs, received{From: s.from, To: s.to, Header: m.Header, Subject: subj, Body: text})
	return nil
}

func decodeBody(cte string, b []byte) (string, error) {
	switch strings.ToLower(cte) {
	case "quoted-printable":
		out, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(string(b))))
		return string(out), err
	case "base64":
		out, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(b)), ""))
		return string(out), err
	}
	return string(b), nil
}

// to returns the messages addressed to addr whose subject contains subj.
func (mb *mailbox) to(addr, subj string) []received {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	var out []received
	for _, m := range mb.msgs {
		for _, r := range m.To {
			if r == addr && strings.Contains(m.Subject, subj) {
				out = append(out, m)
			}
		}
	}
	return out
}

func (mb *mailbox) count() int {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return len(mb.msgs)
}

// withSMTP points the instance's [smtp] at a loopback port.
func withSMTP(port int) instanceOpt {
	return func(c *config.Config) {
		c.SMTP.Host, c.SMTP.Port, c.SMTP.From, c.SMTP.StartTLS = "127.0.0.1", port, "torget@stad.example", "none"
	}
}
