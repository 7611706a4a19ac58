package cases

import "testing"

func TestDetectLanguage(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"@seniorhalsa Milloin palvelupiste on auki? Kiitos", "fi"},
		{"Hei! Voiko päiväkotiin soittaa huomenna aamulla?", "fi"},
		{"Missä kirjasto on?", "fi"},
		{"@seniorhalsa När öppnar servicepunkten på måndag? Tack", "sv"},
		{"Hur gör jag för att få färdtjänst?", "sv"},
		{"When does the library open? Thanks", "en"},
		{"Can I bring my dog to the park?", "en"},
		{"👍", ""},
		{"Älvsjö", ""},
	} {
		if got := DetectLanguage(tc.text); got != tc.want {
			t.Errorf("DetectLanguage(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}
