package op

import (
	"slices"

	"github.com/portvakt/portvakt/internal/store"
)

// UpstreamACR are the acr values of an upstream identity provider, weakest
// first: for ID-porten, idporten-loa-substantial then idporten-loa-high.
// They are published in acr_values_supported only when such an upstream
// is configured. An app that asks for one gets a session that came
// through that upstream at that level or higher (store.Session.Via), and
// only such a session's tokens carry the upstream's value: it is never
// made from a local level.
type UpstreamACR struct {
	Upstream string
	Values   []string
}

// upstreamTable finds upstream acr values.
type upstreamTable struct {
	list   []UpstreamACR
	values []string // every value, for discovery
}

func newUpstreamTable(list []UpstreamACR) upstreamTable {
	t := upstreamTable{list: list}
	for _, u := range list {
		for _, v := range u.Values {
			if !slices.Contains(t.values, v) {
				t.values = append(t.values, v)
			}
		}
	}
	return t
}

// rank returns the upstream a value belongs to and its strength there.
func (t upstreamTable) rank(v string) (upstream string, rank int, ok bool) {
	for _, u := range t.list {
		if i := slices.Index(u.Values, v); i >= 0 {
			return u.Upstream, i, true
		}
	}
	return "", 0, false
}

// wanted returns the upstream values among requested; nil when the
// request asks for none.
func (t upstreamTable) wanted(requested []string) []string {
	var out []string
	for _, v := range requested {
		if _, _, ok := t.rank(v); ok {
			out = append(out, v)
		}
	}
	return out
}

// satisfied reports whether a session that came through via meets one of
// the requested upstream values: the same upstream, at that level or a
// stronger one.
func (t upstreamTable) satisfied(via store.Via, requested []string) bool {
	got, gotRank, ok := t.rank(via.ACR)
	if !ok || got != via.Upstream {
		return false
	}
	for _, v := range t.wanted(requested) {
		if up, r, _ := t.rank(v); up == via.Upstream && gotRank >= r {
			return true
		}
	}
	return false
}

// upstreamOf returns the upstream the first requested upstream value
// belongs to.
func (t upstreamTable) upstreamOf(requested []string) string {
	for _, v := range requested {
		if up, _, ok := t.rank(v); ok {
			return up
		}
	}
	return ""
}
