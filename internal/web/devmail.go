package web

import (
	"net/http"
	"time"

	"github.com/portvakt/portvakt/internal/store"
	"github.com/portvakt/portvakt/internal/web/ui"
)

// DevMailJSON is one message as /dev/mail answers it to
// Accept: application/json.
type DevMailJSON struct {
	ID       string    `json:"id"`
	Channel  string    `json:"channel"`
	To       string    `json:"to"`
	Subject  string    `json:"subject"`
	Text     string    `json:"text"`
	HTML     string    `json:"html,omitempty"`
	Locale   string    `json:"locale"`
	Time     time.Time `json:"time"`
	Sent     bool      `json:"sent"`
	Attempts int       `json:"attempts"`
}

// devMail shows every message the server has queued or sent, newest
// first; ?to= narrows it to one recipient. It exists only when the dev
// mailbox is enabled (by default: when the public URL is on localhost).
func (s *Server) devMail(w http.ResponseWriter, r *http.Request) error {
	msgs, err := s.Outbox.ListMessages(r.Context(), store.MessageFilter{To: r.URL.Query().Get("to"), Channel: r.URL.Query().Get("channel"), Limit: 200})
	if err != nil {
		return err
	}
	if wantsJSON(r) {
		out := make([]DevMailJSON, 0, len(msgs))
		for _, m := range msgs {
			out = append(out, DevMailJSON{ID: m.ID, Channel: m.Channel, To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML, Locale: m.Locale, Time: m.CreatedAt.UTC(), Sent: !m.SentAt.IsZero(), Attempts: m.Attempts})
		}
		return writeJSON(w, http.StatusOK, out)
	}
	p := &ui.DevMailPage{Base: s.base(r)}
	for _, m := range msgs {
		p.Messages = append(p.Messages, ui.DevMail{ID: m.ID, To: m.To, Subject: m.Subject, Text: m.Text, Time: m.CreatedAt.UTC().Format(time.RFC3339), Sent: !m.SentAt.IsZero(), Attempts: m.Attempts})
	}
	return s.render(w, r, http.StatusOK, "devmail", p)
}
