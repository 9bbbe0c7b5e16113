package flow

import (
	"testing"

	"github.com/portvakt/portvakt/internal/authn"
	"github.com/portvakt/portvakt/internal/i18n"
	"github.com/portvakt/portvakt/internal/store"
)

// Every second-factor method has its entry in the table, complete: a
// view whose message keys exist, a verify unless a ceremony proves it
// (security keys), a send exactly for the methods whose code is sent, and,
// for a method held as a store.Factor, how to offer and describe one. A
// method registered twice is refused.
func TestSecondFactorTable(t *testing.T) {
	cat, err := i18n.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{}
	sends := map[authn.Method]bool{authn.SMS: true, authn.Email: true}
	for _, m := range []authn.Method{authn.TOTP, authn.SMS, authn.Email, authn.WebAuthn, authn.Recovery, authn.Support} {
		k, ok := kindOf(m)
		if !ok {
			t.Errorf("%s has no entry in the second-factor table", m)
			continue
		}
		if (k.send != nil) != sends[m] {
			t.Errorf("%s: send is set = %v, want %v", m, k.send != nil, sends[m])
		}
		if (k.verify == nil) != (m == authn.WebAuthn) {
			t.Errorf("%s: verify is nil = %v", m, k.verify == nil)
		}
		if (k.factor == "") == (k.options == nil) {
			t.Errorf("%s: wants exactly one of factor (%q) and options", m, k.factor)
		}
		v := s.View(Option{Method: m, Label: "k…i@ex…no"})
		for _, key := range []string{v.Title, v.CodeLabel, v.CodeHint, v.SendText, v.SendButton, v.SendAgain, v.Sent} {
			if key != "" && !cat.Has(key) {
				t.Errorf("%s: the view's key %q has no message", m, key)
			}
		}
		if v.Title == "" || v.Sends() != sends[m] {
			t.Errorf("%s: view %+v", m, v)
		}
		if k.factor != "" {
			f := store.Factor{ID: "f1", Kind: k.factor, Name: "Phone", Phone: "+4791234567"}
			if o := k.fromFactor(f); o.Method != m || o.Target != "f1" || o.Label == "" {
				t.Errorf("%s: the option of a factor is %+v", m, o)
			}
			if key, _ := k.describe(f); !cat.Has(key) {
				t.Errorf("%s: describe's key %q has no message", m, key)
			}
			if got, ok := kindOfFactor(k.factor); !ok || got.method != m {
				t.Errorf("factor kind %q does not lead back to %s", k.factor, m)
			}
		}
	}
	if v := s.View(Option{Method: "carrier-pigeon"}); v.Title != "mfa.choose" {
		t.Errorf("an unknown method's view = %+v", v)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("registering a method twice did not panic")
			}
		}()
		k, _ := kindOf(authn.TOTP)
		registerSecondFactor(k)
	}()
}
