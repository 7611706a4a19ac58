package auth

import (
	"strings"
	"testing"
	"time"
)

func TestTOTP(t *testing.T) {
	secret, uri, err := NewTOTP("torget", "anna@social.example.se")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(uri, "otpauth://totp/") || !strings.Contains(uri, "secret="+secret) {
		t.Fatalf("uri %q", uri)
	}
	if again := TOTPURI("torget", "anna@social.example.se", secret); again != uri {
		t.Fatalf("rebuilt uri %q, want %q", again, uri)
	}
	now := time.Unix(1_800_000_000, 0)
	code, _ := TOTPCode(secret, now)
	step, ok := MatchTOTP(secret, code[:3]+" "+code[3:], now)
	if !ok || step != now.Unix()/30 {
		t.Fatalf("current code: %d %v", step, ok)
	}
	if _, ok := MatchTOTP(secret, code, now.Add(31*time.Second)); !ok {
		t.Fatal("previous step's code refused")
	}
	if _, ok := MatchTOTP(secret, code, now.Add(90*time.Second)); ok {
		t.Fatal("code three steps old accepted")
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef"} {
		if _, ok := MatchTOTP(secret, bad, now); ok {
			t.Fatalf("code %q accepted", bad)
		}
	}
}
