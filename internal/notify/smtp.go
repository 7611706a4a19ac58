package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/wneessen/go-mail"
)

// SMTPConfig is the [smtp] section.
type SMTPConfig struct {
	Host, Username, Password, From string
	Port                           int
	// StartTLS is "required" (default), "opportunistic" or "none".
	StartTLS string
	Timeout  time.Duration
}

// SMTP mails through an SMTP server (RFC 5321) with go-mail.
type SMTP struct {
	cfg  SMTPConfig
	opts []mail.Option
}

// NewSMTP checks the configuration and returns the mailer.
func NewSMTP(c SMTPConfig) (*SMTP, error) {
	if c.Host == "" || c.From == "" {
		return nil, fmt.Errorf("smtp: host and from are required")
	}
	if c.Port == 0 {
		c.Port = 587
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	policy := mail.TLSMandatory
	switch c.StartTLS {
	case "", "required":
	case "opportunistic":
		policy = mail.TLSOpportunistic
	case "none":
		policy = mail.NoTLS
	default:
		return nil, fmt.Errorf("smtp.starttls %q: want required, opportunistic or none", c.StartTLS)
	}
	opts := []mail.Option{mail.WithPort(c.Port), mail.WithTLSPolicy(policy), mail.WithTimeout(c.Timeout)}
	if c.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(c.Username), mail.WithPassword(c.Password))
	}
	if _, err := mail.NewClient(c.Host, opts...); err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
	return &SMTP{cfg: c, opts: opts}, nil
}

// Send delivers one message in its own SMTP session.
func (s *SMTP) Send(ctx context.Context, m Mail) error {
	msg := mail.NewMsg()
	if err := msg.From(s.cfg.From); err != nil {
		return fmt.Errorf("smtp from %q: %w", s.cfg.From, err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("smtp to %q: %w", m.To, err)
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(m.MessageID)
	msg.SetDateWithValue(m.Date)
	msg.SetGenHeader(mail.HeaderContentLang, m.Language)
	msg.SetBodyString(mail.TypeTextPlain, m.Body)
	c, err := mail.NewClient(s.cfg.Host, s.opts...)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("smtp send to %s: %w", m.To, err)
	}
	return nil
}
