package web

import (
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// Errors for people: a browser (it asks for text/html) gets an accessible
// page in the site's layout that says what happened and links back; API
// and ActivityPub clients keep the JSON or plain-text answer.

type errorPage struct {
	page
	Code                 int
	Heading, Explanation string
	Detail               string
	Back, Home, HomeText string
}

// wantsHTML reports whether the request comes from a browser: it accepts
// text/html and is no ActivityPub, discovery or inbox request.
func wantsHTML(c echo.Context) bool {
	r := c.Request()
	p := r.URL.Path
	if wantsAS(r) || strings.HasPrefix(p, "/.well-known/") || strings.HasPrefix(p, "/nodeinfo/") || inboxRoutes[c.Path()] {
		return false
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && (mt == "text/html" || mt == "application/xhtml+xml") {
			return true
		}
	}
	return false
}

// errorText is what a person reads for a status.
func errorText(code int, msg string) (heading, explanation string) {
	switch {
	case code == http.StatusForbidden && strings.Contains(msg, "CSRF"):
		return "Formuläret kunde inte skickas", "Sidan var för gammal eller öppnades i en annan flik eller inloggning, så vi kunde inte kontrollera att det var du som skickade formuläret. Inget sparades. Gå tillbaka, ladda om sidan och försök igen."
	case code == http.StatusForbidden:
		return "Du har inte behörighet", "Ditt konto får inte göra det här. Be en administratör om behörighet om du behöver den."
	case code == http.StatusNotFound:
		return "Sidan finns inte", "Det finns ingen sida på den här adressen. Den kan ha flyttats eller tagits bort, eller så är adressen felskriven."
	case code == http.StatusMethodNotAllowed:
		return "Det går inte att göra så här", "Adressen finns, men inte för den här sortens förfrågan. Använd länkarna och knapparna på sidorna."
	case code == http.StatusRequestEntityTooLarge:
		return "Det du skickade var för stort", "Formuläret innehöll mer än servern tar emot. Inget sparades. Korta texten och försök igen."
	case code == http.StatusConflict || code == http.StatusGone:
		return "Det har redan ändrats", "Någon annan (eller du i en annan flik) har redan ändrat det här. Ladda om sidan för att se hur det ser ut nu."
	case code >= 500:
		return "Något gick fel hos oss", "Ett fel uppstod på servern. Inget du gjorde orsakade det. Försök igen om en stund; felet är loggat."
	}
	return "Förfrågan kunde inte utföras", "Servern kunde inte utföra förfrågan."
}

// renderError writes the error page; it reports false if it could not.
func (s *Server) renderError(c echo.Context, code int, msg string) bool {
	heading, expl := errorText(code, msg)
	r := c.Request()
	staff := isStaffPath(r.URL.Path)
	v := errorPage{page: s.page(c, heading, ""), Code: code, Heading: heading, Explanation: expl, Home: "/", HomeText: "Till startsidan"}
	if staff {
		v.page = s.staffPage(c, heading)
		v.Home, v.HomeText = "/staff", "Till personalens startsida"
	}
	if code == http.StatusConflict || code == http.StatusGone || code == http.StatusUnprocessableEntity {
		v.Detail = msg
	}
	if ref := r.Referer(); strings.HasPrefix(ref, s.u.Base+"/") && ref != s.u.Base+r.URL.RequestURI() {
		v.Back = ref
	}
	if err := s.render(c, code, "error.html", v); err != nil {
		s.log.Error("render error page", "err", err)
		return false
	}
	return true
}
