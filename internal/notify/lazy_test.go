package notify_test

import (
	"testing"

	"github.com/portvakt/portvakt/internal/i18n"
	"github.com/portvakt/portvakt/internal/notify"
)

// With the embedded templates, New parses no template and no catalog: a
// server that has sent no mail holds neither (issue 12: idle RSS). The
// first mail in a language compiles that language (TestMailer_Send renders
// every template in every language, which is where a broken one is found).
func TestNew_embeddedTemplatesCompileOnFirstMail(t *testing.T) {
	cat := newCatalog(t)
	m := newMailer(t, newOutbox(), newClock(), func(cfg *notify.Config) { cfg.Catalog = cat })
	for _, l := range i18n.Languages {
		if cat.Loaded(l) {
			t.Errorf("after New, the %s catalog is parsed", l)
		}
	}
	if err := m.Send(t.Context(), "ada@example.com", "sv", notify.TemplateTest, map[string]any{"name": "Ada"}); err != nil {
		t.Fatal(err)
	}
	if !cat.Loaded("sv") || cat.Loaded("nb") {
		t.Errorf("after a Swedish mail, loaded sv = %v, nb = %v; want true, false", cat.Loaded("sv"), cat.Loaded("nb"))
	}
}
