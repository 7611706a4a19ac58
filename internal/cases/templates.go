package cases

import (
	"fmt"
	"strings"
	"time"
)

// Template is a reply template staff can start an answer from.
type Template struct {
	Key      string
	Language string
	Title    string
	Text     string
}

// Languages of the templates: Swedish first, Finnish (Stockholm is in the
// Finnish administrative area) and English.
var Languages = []string{"sv", "fi", "en"}

// Templates returns the reply templates in a language ("sv", "fi" or
// "en"; Swedish for anything else), with the configured links filled in.
func (s *Service) Templates(lang string) []Template {
	lang = baseLang(lang)
	var out []Template
	for _, t := range templates {
		if t.Language != lang {
			continue
		}
		t.Text = strings.NewReplacer("{proposals}", s.cfg.ProposalsURL, "{meetings}", s.cfg.MeetingsURL,
			"{feedback}", s.cfg.FeedbackURL).Replace(t.Text)
		out = append(out, t)
	}
	return out
}

// Template returns one template by key and language.
func (s *Service) Template(key, lang string) (Template, bool) {
	for _, t := range s.Templates(lang) {
		if t.Key == key {
			return t, true
		}
	}
	return Template{}, false
}

func baseLang(lang string) string {
	l, _, _ := strings.Cut(strings.ToLower(lang), "-")
	for _, x := range Languages {
		if l == x {
			return l
		}
	}
	return "sv"
}

var templates = []Template{
	{"thanks", "sv", "Tack, vi återkommer", "Tack för din fråga! Vi tittar på den och återkommer så snart vi kan."},
	{"proposal", "sv", "Politiskt förslag: demokratiska kanaler",
		"Tack för ditt förslag! Den här kanalen är till för information och frågor, och här fattas inga politiska beslut. " +
			"Vill du att politikerna ska ta ställning kan du lämna ett medborgarförslag: {proposals} . " +
			"Du kan också ställa din fråga direkt till politikerna på nämndens öppna frågestund: {meetings} . " +
			"Synpunkter på verksamheten tar vi emot här: {feedback}"},
	{"private", "sv", "Personliga uppgifter: ta det privat",
		"Tack för att du hör av dig. Skriv inte personuppgifter eller känsliga uppgifter här. Ditt ärende hanterar vi bäst via {feedback}"},
	{"thanks", "fi", "Kiitos, palaamme asiaan", "Kiitos kysymyksestäsi! Selvitämme asiaa ja palaamme asiaan mahdollisimman pian."},
	{"proposal", "fi", "Poliittinen ehdotus: demokraattiset kanavat",
		"Kiitos ehdotuksestasi! Tämä kanava on tarkoitettu tiedottamiseen ja kysymyksiin, eikä täällä tehdä poliittisia päätöksiä. " +
			"Jos haluat poliitikkojen ottavan kantaa, voit tehdä kuntalaisaloitteen: {proposals} . " +
			"Voit myös esittää kysymyksesi suoraan poliitikoille lautakunnan avoimella kyselytunnilla: {meetings} . " +
			"Palautetta toiminnasta voit antaa täällä: {feedback}"},
	{"private", "fi", "Henkilötiedot: hoidetaan yksityisesti",
		"Kiitos yhteydenotostasi. Älä kirjoita tänne henkilötietoja tai arkaluonteisia tietoja. Asiasi hoidetaan parhaiten kautta {feedback}"},
	{"thanks", "en", "Thank you, we will get back to you", "Thank you for your question! We are looking into it and will get back to you as soon as we can."},
	{"proposal", "en", "Political proposal: democratic channels",
		"Thank you for your proposal! This channel is for information and questions; no political decisions are made here. " +
			"If you want the politicians to decide on it, you can submit a citizen proposal: {proposals} . " +
			"You can also ask the politicians directly at the committee's open question time: {meetings} . " +
			"Feedback on our services is welcome here: {feedback}"},
	{"private", "en", "Personal data: let us take it privately",
		"Thank you for getting in touch. Please do not write personal or sensitive data here. Your matter is best handled through {feedback}"},
}

// ForwardNotice tells the resident where the question went and when
// (SVC-4: "vidarebefordrat till X den …").
func ForwardNotice(lang, target string, at time.Time) string {
	d := at.Format("2006-01-02")
	switch baseLang(lang) {
	case "fi":
		return fmt.Sprintf("Kysymyksesi on välitetty eteenpäin: %s, %s. He vastaavat sinulle.", target, d)
	case "en":
		return fmt.Sprintf("Your question was forwarded to %s on %s. They will answer you.", target, d)
	}
	return fmt.Sprintf("Din fråga har vidarebefordrats till %s den %s. De svarar dig.", target, d)
}
