package op

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
)

// acrTable maps ACR values to levels and back.
type acrTable struct {
	level     map[string]int
	canonical map[int]string // the first value configured for each level
	values    []string       // in configuration order, for discovery
	levels    []int          // the configured levels, ascending
	amr       map[string][]string
}

func newACRTable(list []ACR) acrTable {
	t := acrTable{level: map[string]int{}, canonical: map[int]string{}, amr: map[string][]string{}}
	for _, a := range list {
		if _, ok := t.level[a.Value]; ok {
			continue
		}
		t.level[a.Value] = a.Level
		if len(a.AMR) > 0 {
			t.amr[a.Value] = slices.Clone(a.AMR)
		}
		t.values = append(t.values, a.Value)
		if _, ok := t.canonical[a.Level]; !ok {
			t.canonical[a.Level] = a.Value
			t.levels = append(t.levels, a.Level)
		}
	}
	slices.Sort(t.levels)
	return t
}

// required returns the level a request's ACR values demand: the lowest
// level among the known values, since any of them will do. known is false
// when none of them is known.
func (t acrTable) required(values []string) (level int, known bool) {
	for _, v := range values {
		if l, ok := t.level[v]; ok && (!known || l < level) {
			level, known = l, true
		}
	}
	return level, known
}

// acr returns the value an ID token carries for a session at level: of
// the values the client asked for, the strongest that level satisfies;
// otherwise the canonical value of the highest configured level not above
// it. "" if the level is below every configured one.
func (t acrTable) acr(level int, requested []string) string {
	best, bestLevel := "", 0
	for _, v := range requested {
		if l, ok := t.level[v]; ok && l <= level && l > bestLevel {
			best, bestLevel = v, l
		}
	}
	if best != "" {
		return best
	}
	for _, l := range slices.Backward(t.levels) {
		if l <= level {
			return t.canonical[l]
		}
	}
	return ""
}

// levelOf returns the level of an ACR value this table knows, or 0.
func (t acrTable) levelOf(acr string) int { return t.level[acr] }

// claimsACR reads the acr request of an OpenID Connect claims parameter
// (OIDC Core §5.5.1.1): {"id_token": {"acr": {"essential": true,
// "values": ["…"]}}}. ok is false when it asks for no acr.
func claimsACR(raw string) (values []string, essential, ok bool, err error) {
	if raw == "" {
		return nil, false, false, nil
	}
	var c struct {
		IDToken map[string]*struct {
			Essential bool     `json:"essential"`
			Value     *string  `json:"value"`
			Values    []string `json:"values"`
		} `json:"id_token"`
	}
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		return nil, false, false, errors.New("the claims parameter is not a JSON object of the form OIDC Core §5.5 describes")
	}
	a := c.IDToken["acr"]
	if a == nil {
		return nil, false, false, nil
	}
	all := a.Values
	if a.Value != nil {
		all = append([]string{*a.Value}, all...)
	}
	for _, v := range all {
		if v != "" && !strings.ContainsFunc(v, isSpace) {
			values = append(values, v)
		}
	}
	return values, a.Essential, len(values) > 0, nil
}
