package sqlstore

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portvakt/portvakt/internal/pgtest"
	"github.com/portvakt/portvakt/internal/store"
)

// firstRelease is the schema version the first release shipped (the first
// wave, 2026-11-21): migrations 00001 to 00006.
const firstRelease = 6

// shipped are the SHA-256 digests of the migration files the first
// release shipped. A database made by that release has run exactly these;
// changing one would leave such databases with a schema no migration
// describes, so a shipped migration is never edited: a change is a new
// file.
var shipped = map[string]string{
	"sqlite/00001_init.sql":             "7d2c69188fde733dd9ee9abdf648b32f26f0eba0a7c4b397a1c8dce2b786d7af",
	"sqlite/00002_accounts.sql":         "938473862aa3854fb57758b14e0f6d564c92870b56d9befa8960bf9dff1b6389",
	"sqlite/00003_factors.sql":          "6b29b4fdf2cbb481cf4d6353d9ac9094e7568bd859d225b75da28db4fda6e1f9",
	"sqlite/00004_webauthn.sql":         "70dcdb55fc705138b3fcfc589e59753280c9c7e97ef6b5842fe8e08480f13621",
	"sqlite/00005_oidc.sql":             "1f48f06c729a61efa6d5abf7b2a4d1a063158683cd690e1dbcc5d37ca2edca12",
	"sqlite/00006_account_policy.sql":   "b5188758ad09ae548fc4454818b554fad18ecf8d38863768158e499f2cad4f5c",
	"postgres/00001_init.sql":           "a017b2f327458d719dfc06b18335637cf9003083d4bfb45c9d67aad9f3381771",
	"postgres/00002_accounts.sql":       "a47135a19cd85a20ed6651e982b1e759f6337a4247c82f837c32cbf5be5ec0c8",
	"postgres/00003_factors.sql":        "98dcec9c27c278ee811110460b07efb9fbad2cb800fdbef94e1631b155c5861a",
	"postgres/00004_webauthn.sql":       "9fb65e03d1323f6f67f12b692c44191f217e04c17b74e451668aa97170f9ad93",
	"postgres/00005_oidc.sql":           "43e081db746890153c2b8be51dfe5a44c295dc4f43ca08e40590d5d803503547",
	"postgres/00006_account_policy.sql": "67f8e5b4c4f1e344c37371cfd53d906679725254f6249efbd7809e8a8abdaeeb",
}

func TestShippedMigrationsNeverChange(t *testing.T) {
	for name, want := range shipped {
		b, err := migrations.ReadFile("migrations/" + name)
		if err != nil {
			t.Errorf("%s: %v (a shipped migration is never removed)", name, err)
			continue
		}
		if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != want {
			t.Errorf("migrations/%s has changed since the first release shipped it; add a new migration instead", name)
		}
	}
}

// A database made by the first release, holding one of everything that
// release stored (written by the statements that release used), is
// migrated by the real migrator to the current schema, whatever the
// current migrations are, and everything reads back through the store as
// it was written; the migrated database then takes writes.
func TestUpgradeFromTheFirstRelease(t *testing.T) {
	newDSN := map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "portvakt.db") },
		"postgres": func(t *testing.T) string { return pgtest.Shared(t).NewDatabase(t) },
	}
	for _, driver := range Drivers() {
		t.Run(driver, func(t *testing.T) {
			ctx := t.Context()
			db, err := Open(ctx, driver, newDSN[driver](t))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()

			p, err := db.migrator()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.UpTo(ctx, firstRelease); err != nil {
				t.Fatalf("migrating to the first release's schema: %v", err)
			}
			r1 := newRelease1(t, db)
			r1.fill()

			files := migrationFiles(t, driver)
			applied, err := db.Migrate(ctx)
			if err != nil {
				t.Fatalf("Migrate from the first release: applied %q, then %v", applied, err)
			}
			if want := files[firstRelease:]; !slices.Equal(applied, want) {
				t.Errorf("Migrate applied %q, want every later migration %q", applied, want)
			}
			r1.check()
		})
	}
}

// release1 writes rows as the first release's store did and checks them.
type release1 struct {
	t  *testing.T
	db *DB

	accounts  []store.Account
	emails    []store.Email
	password  store.Password
	session   store.Session
	messages  []store.Message
	flows     []store.Flow
	factors   []store.Factor
	codes     []store.RecoveryCode
	browser   store.TrustedBrowser
	key       store.WebAuthnCredential
	clients   []store.Client
	grant     store.Grant
	access    store.AccessToken
	refresh   store.RefreshToken
	consent   store.Consent
	signing   store.SigningKey
	authReq   store.AuthRequest
	revokedID string
}

func newRelease1(t *testing.T, db *DB) *release1 {
	t0 := time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	digest := func(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }
	r := &release1{t: t, db: db}
	r.accounts = []store.Account{
		{ID: "acc-kari", Username: "kari", Name: "Kari Nordmann", Locale: "nb", Groups: []string{"staff", "admins"}, MFARequired: true,
			CreatedAt: at(0), UpdatedAt: at(time.Hour)},
		{ID: "acc-ase", Name: "Åse Blåbær", Locale: "sv", Disabled: true, CreatedAt: at(time.Minute), UpdatedAt: at(time.Minute)},
	}
	r.emails = []store.Email{
		{Address: "kari@example.no", AccountID: "acc-kari", Primary: true, VerifiedAt: at(time.Second), CreatedAt: at(time.Second)},
		{Address: "Kari.Jobb@Example.NO", AccountID: "acc-kari", CreatedAt: at(2 * time.Second)}, // not verified
		// The first release keyed addresses by strings.ToLower only; the
		// key of this one changes (NFC, IDNA) when the database is migrated.
		{Address: "Åse@Blåbær.no", AccountID: "acc-ase", Primary: true, VerifiedAt: at(time.Minute), CreatedAt: at(time.Minute)},
	}
	r.password = store.Password{AccountID: "acc-kari", Hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g",
		History: []string{"$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"}, ChangedAt: at(time.Hour)}
	r.session = store.Session{ID: "ses-1", TokenHash: digest("session token"), AccountID: "acc-kari", CreatedAt: at(time.Hour),
		LastSeenAt: at(2 * time.Hour), ExpiresAt: at(13 * time.Hour), AuthTime: at(time.Hour), AMR: []string{"pwd", "otp", "mfa"}, Level: 3,
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/132.0", IP: "192.0.2.7"}
	r.messages = []store.Message{
		{ID: "msg-sent", Channel: "email", To: "kari@example.no", Subject: "Bekreft e-postadressen", Text: "Koden er 123456.",
			HTML: "<p>Koden er <b>123456</b>.</p>", Locale: "nb", CreatedAt: at(time.Second), Attempts: 1, NextAttemptAt: at(time.Second), SentAt: at(3 * time.Second)},
		{ID: "msg-due", Channel: "sms", To: "+4791234567", Subject: "", Text: "Koden er 654321.", Locale: "nb", CreatedAt: at(time.Hour),
			Attempts: 2, NextAttemptAt: at(time.Hour + time.Minute), LastError: "gateway: 503"},
	}
	r.flows = []store.Flow{
		{ID: "flow-recover", Kind: "recovery", BrowserHash: digest("browser"), AccountID: "acc-kari", Email: "kari@example.no", State: "sent",
			CodeHash: digest("code"), LinkHash: digest("link"), Attempts: 1, Sends: 2, LastSentAt: at(time.Hour), Data: `{"method":"link"}`,
			CreatedAt: at(time.Hour), ExpiresAt: at(2 * time.Hour)},
		{ID: "flow-signup", Kind: "signup", Email: "ny@example.no", State: "verified", Data: `{}`, CreatedAt: at(time.Hour),
			ExpiresAt: at(2 * time.Hour), ConsumedAt: at(90 * time.Minute)},
	}
	r.factors = []store.Factor{
		{ID: "fac-totp", AccountID: "acc-kari", Kind: "totp", Name: "Telefonen", Secret: []byte("sealed seed bytes"), LastStep: 59012345,
			ConfirmedAt: at(time.Hour), CreatedAt: at(time.Hour), LastUsedAt: at(2 * time.Hour)},
		{ID: "fac-sms", AccountID: "acc-kari", Kind: "sms", Name: "Mobil", Phone: "+4791234567", ConfirmedAt: at(time.Hour), CreatedAt: at(time.Hour + time.Minute)},
	}
	r.codes = []store.RecoveryCode{
		{AccountID: "acc-kari", Hash: digest("code one"), CreatedAt: at(time.Hour)},
		{AccountID: "acc-kari", Hash: digest("code two"), CreatedAt: at(time.Hour), UsedAt: at(2 * time.Hour)},
	}
	r.browser = store.TrustedBrowser{ID: "tb-1", AccountID: "acc-kari", TokenHash: digest("trusted"), UserAgent: "Firefox", IP: "192.0.2.7",
		CreatedAt: at(time.Hour), ExpiresAt: at(30 * 24 * time.Hour)}
	r.key = store.WebAuthnCredential{ID: []byte{1, 2, 3, 4, 5, 6, 7, 8}, AccountID: "acc-kari", Name: "YubiKey", PublicKey: []byte("cose public key"),
		AttestationType: "none", AAGUID: make([]byte, 16), SignCount: 4294967295, Transports: []string{"usb", "nfc"}, Discoverable: true,
		BackupEligible: true, BackupState: false, CloneWarning: true, CreatedAt: at(time.Hour), LastUsedAt: at(2 * time.Hour)}
	r.clients = []store.Client{
		{ID: "minside", SecretHash: digest("secret"), Name: "Min side", RedirectURIs: []string{"https://minside.example/cb", "https://minside.example/cb2"},
			PostLogoutRedirectURIs: []string{"https://minside.example/"}, GrantTypes: []string{"authorization_code", "refresh_token"},
			Scopes: []string{"openid", "profile", "email"}, SigningAlg: "RS256", AccessTokenFormat: "jwt", AccessTokenTTL: 5 * time.Minute,
			RefreshTokenTTL: 720 * time.Hour, BackChannelLogoutURI: "https://minside.example/logout", CreatedAt: at(0)},
		{ID: "spa", Name: "SPA", RedirectURIs: []string{"http://localhost:5173/cb"}, Public: true, ThirdParty: true, PKCEOptional: false,
			GrantTypes: []string{"authorization_code"}, Scopes: []string{"openid"}, AccessTokenFormat: "opaque", CreatedAt: at(0)},
	}
	r.grant = store.Grant{ID: "grant-1", ClientID: "minside", AccountID: "acc-kari", SessionID: "ses-1", Scopes: []string{"openid", "email"},
		AuthTime: at(time.Hour), AMR: []string{"pwd", "otp"}, ACR: "urn:portvakt:loa:3", CreatedAt: at(time.Hour), ExpiresAt: at(721 * time.Hour)}
	r.access = store.AccessToken{ID: "at-1", GrantID: "grant-1", ClientID: "minside", Subject: "acc-kari", Scopes: []string{"openid", "email"},
		Audience: []string{"minside", "api"}, CreatedAt: at(time.Hour), ExpiresAt: at(time.Hour + 5*time.Minute)}
	r.refresh = store.RefreshToken{Hash: digest("refresh"), GrantID: "grant-1", Scopes: []string{"openid", "email"}, CreatedAt: at(time.Hour),
		ExpiresAt: at(721 * time.Hour)}
	r.consent = store.Consent{AccountID: "acc-kari", ClientID: "spa", Scopes: []string{"openid"}, GrantedAt: at(time.Hour)}
	r.signing = store.SigningKey{ID: "key-2026-11", Alg: "RS256", PrivateKey: []byte("sealed private key"), PublicKey: []byte("public key"),
		CreatedAt: at(0), ActiveFrom: at(0), ExpiresAt: at(90 * 24 * time.Hour)}
	r.authReq = store.AuthRequest{ID: "ar-1", ClientID: "minside", RedirectURI: "https://minside.example/cb", Scopes: []string{"openid"},
		State: "st", Nonce: "no", CodeChallenge: "challenge", CodeChallengeMethod: "S256", ResponseMode: "query", Prompt: []string{"login"},
		MaxAge: 600, ACRValues: []string{"urn:portvakt:loa:3"}, ACREssential: true, UILocales: []string{"nb", "en"}, LoginHint: "kari@example.no",
		Done: true, AccountID: "acc-kari", SessionID: "ses-1", AuthTime: at(time.Hour), AMR: []string{"pwd"}, ACR: "urn:portvakt:loa:3",
		CodeHash: digest("auth code"), CodeExpiresAt: at(time.Hour + time.Minute), CreatedAt: at(time.Hour), ExpiresAt: at(2 * time.Hour)}
	r.revokedID = "at-revoked"
	return r
}

// exec runs one statement of the first release's store.
func (r *release1) exec(query string, args ...any) {
	r.t.Helper()
	if _, err := r.db.writer().exec(r.t.Context(), query, args...); err != nil {
		r.t.Fatalf("%s: %v", query, err)
	}
}

func joinSp(l []string) string { return strings.Join(l, " ") }

// fill writes every row with the first release's INSERT statements and
// encodings (lists space-separated, history as JSON, times in ms,
// addresses keyed by strings.ToLower).
func (r *release1) fill() {
	for _, a := range r.accounts {
		r.exec("INSERT INTO accounts (id, username, name, locale, disabled, groups, mfa_required, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
			a.ID, nullIfEmpty(a.Username), a.Name, a.Locale, a.Disabled, joinSp(a.Groups), a.MFARequired, millis(a.CreatedAt), millis(a.UpdatedAt))
	}
	for _, e := range r.emails {
		r.exec("INSERT INTO emails (address_key, address, account_id, is_primary, verified_at, created_at) VALUES (?, ?, ?, ?, ?, ?)",
			strings.ToLower(e.Address), e.Address, e.AccountID, e.Primary, millis(e.VerifiedAt), millis(e.CreatedAt))
	}
	p := r.password
	r.exec("INSERT INTO passwords (account_id, hash, history, changed_at) VALUES (?, ?, ?, ?)",
		p.AccountID, p.Hash, `["`+p.History[0]+`"]`, millis(p.ChangedAt))
	s := r.session
	r.exec("INSERT INTO sessions (id, token_hash, account_id, created_at, last_seen_at, expires_at, auth_time, amr, level, user_agent, ip) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		s.ID, s.TokenHash, s.AccountID, millis(s.CreatedAt), millis(s.LastSeenAt), millis(s.ExpiresAt), millis(s.AuthTime), joinSp(s.AMR), s.Level, s.UserAgent, s.IP)
	for _, m := range r.messages {
		r.exec("INSERT INTO messages (id, channel, recipient, subject, body_text, body_html, locale, created_at, attempts, next_attempt_at, sent_at, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			m.ID, m.Channel, m.To, m.Subject, m.Text, m.HTML, m.Locale, millis(m.CreatedAt), m.Attempts, millis(m.NextAttemptAt), millis(m.SentAt), m.LastError)
	}
	for _, f := range r.flows {
		r.exec("INSERT INTO flows (id, kind, browser_hash, account_id, email, state, code_hash, link_hash, attempts, sends, last_sent_at, data, created_at, expires_at, consumed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			f.ID, f.Kind, nullIfNoBytes(f.BrowserHash), nullIfEmpty(f.AccountID), f.Email, f.State, nullIfNoBytes(f.CodeHash), nullIfNoBytes(f.LinkHash),
			f.Attempts, f.Sends, millis(f.LastSentAt), f.Data, millis(f.CreatedAt), millis(f.ExpiresAt), millis(f.ConsumedAt))
	}
	r.exec("INSERT INTO counters (name, failures, last_failure_at) VALUES (?, ?, ?)", "login:kari", 3, millis(r.session.CreatedAt))
	for _, f := range r.factors {
		r.exec("INSERT INTO factors (id, account_id, kind, name, secret, phone, last_step, confirmed_at, created_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			f.ID, f.AccountID, f.Kind, f.Name, nullIfNoBytes(f.Secret), f.Phone, f.LastStep, millis(f.ConfirmedAt), millis(f.CreatedAt), millis(f.LastUsedAt))
	}
	for _, c := range r.codes {
		r.exec("INSERT INTO recovery_codes (account_id, hash, created_at, used_at) VALUES (?, ?, ?, ?)", c.AccountID, c.Hash, millis(c.CreatedAt), millis(c.UsedAt))
	}
	b := r.browser
	r.exec("INSERT INTO trusted_browsers (id, account_id, token_hash, user_agent, ip, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
		b.ID, b.AccountID, b.TokenHash, b.UserAgent, b.IP, millis(b.CreatedAt), millis(b.ExpiresAt))
	k := r.key
	r.exec("INSERT INTO webauthn_credentials (id, account_id, name, public_key, attestation_type, aaguid, sign_count, transports, discoverable, backup_eligible, backup_state, clone_warning, created_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		k.ID, k.AccountID, k.Name, nullIfNoBytes(k.PublicKey), k.AttestationType, nullIfNoBytes(k.AAGUID), int64(k.SignCount), joinSp(k.Transports),
		k.Discoverable, k.BackupEligible, k.BackupState, k.CloneWarning, millis(k.CreatedAt), millis(k.LastUsedAt))
	for _, c := range r.clients {
		r.exec("INSERT INTO oidc_clients (id, secret_hash, name, redirect_uris, post_logout_redirect_uris, public, third_party, pkce_optional, grant_types, scopes, signing_alg, access_token_format, access_token_ttl, refresh_token_ttl, backchannel_logout_uri, created_at) VALUES ("+placeholders(16)+")",
			c.ID, nullIfNoBytes(c.SecretHash), c.Name, joinSp(c.RedirectURIs), joinSp(c.PostLogoutRedirectURIs), c.Public, c.ThirdParty, c.PKCEOptional,
			joinSp(c.GrantTypes), joinSp(c.Scopes), c.SigningAlg, c.AccessTokenFormat, c.AccessTokenTTL.Milliseconds(), c.RefreshTokenTTL.Milliseconds(),
			c.BackChannelLogoutURI, millis(c.CreatedAt))
	}
	g := r.grant
	r.exec("INSERT INTO oidc_grants (id, client_id, account_id, session_id, scopes, auth_time, amr, acr, created_at, expires_at, revoked_at) VALUES ("+placeholders(11)+")",
		g.ID, g.ClientID, g.AccountID, g.SessionID, joinSp(g.Scopes), millis(g.AuthTime), joinSp(g.AMR), g.ACR, millis(g.CreatedAt), millis(g.ExpiresAt), millis(g.RevokedAt))
	a := r.access
	r.exec("INSERT INTO oidc_access_tokens (id, grant_id, client_id, subject, scopes, audience, created_at, expires_at) VALUES ("+placeholders(8)+")",
		a.ID, nullIfEmpty(a.GrantID), a.ClientID, a.Subject, joinSp(a.Scopes), joinSp(a.Audience), millis(a.CreatedAt), millis(a.ExpiresAt))
	rt := r.refresh
	r.exec("INSERT INTO oidc_refresh_tokens (hash, grant_id, scopes, created_at, expires_at, used_at) VALUES (?, ?, ?, ?, ?, ?)",
		rt.Hash, rt.GrantID, joinSp(rt.Scopes), millis(rt.CreatedAt), millis(rt.ExpiresAt), millis(rt.UsedAt))
	c := r.consent
	r.exec("INSERT INTO oidc_consents (account_id, client_id, scopes, granted_at) VALUES (?, ?, ?, ?)", c.AccountID, c.ClientID, joinSp(c.Scopes), millis(c.GrantedAt))
	sk := r.signing
	r.exec("INSERT INTO oidc_signing_keys (id, alg, private_key, public_key, created_at, active_from, retired_at, expires_at) VALUES ("+placeholders(8)+")",
		sk.ID, sk.Alg, sk.PrivateKey, sk.PublicKey, millis(sk.CreatedAt), millis(sk.ActiveFrom), millis(sk.RetiredAt), millis(sk.ExpiresAt))
	r.exec("INSERT INTO oidc_revoked_tokens (id, expires_at) VALUES (?, ?)", r.revokedID, millis(r.access.ExpiresAt.Add(time.Hour)))
	ar := r.authReq
	r.exec("INSERT INTO oidc_auth_requests (id, client_id, redirect_uri, scopes, state, nonce, code_challenge, code_challenge_method, response_mode, prompt, max_age, acr_values, acr_essential, ui_locales, login_hint, hint_subject, done, account_id, session_id, auth_time, amr, acr, error, code_hash, code_expires_at, grant_id, created_at, expires_at) VALUES ("+placeholders(28)+")",
		ar.ID, ar.ClientID, ar.RedirectURI, joinSp(ar.Scopes), ar.State, ar.Nonce, ar.CodeChallenge, ar.CodeChallengeMethod, ar.ResponseMode,
		joinSp(ar.Prompt), ar.MaxAge, joinSp(ar.ACRValues), ar.ACREssential, joinSp(ar.UILocales), ar.LoginHint, ar.HintSubject, ar.Done,
		nullIfEmpty(ar.AccountID), ar.SessionID, millis(ar.AuthTime), joinSp(ar.AMR), ar.ACR, ar.Error, nullIfNoBytes(ar.CodeHash),
		millis(ar.CodeExpiresAt), ar.GrantID, millis(ar.CreatedAt), millis(ar.ExpiresAt))
}

// same reports a difference between what the first release wrote and
// what the store reads now.
func (r *release1) same(what string, got, want any) {
	r.t.Helper()
	if !reflect.DeepEqual(got, want) {
		r.t.Errorf("%s after the upgrade:\n got  %+v\n want %+v", what, got, want)
	}
}

func (r *release1) must(what string, err error) {
	r.t.Helper()
	if err != nil {
		r.t.Fatalf("%s after the upgrade: %v", what, err)
	}
}

// check reads everything back through the store.
func (r *release1) check() {
	t, db, ctx := r.t, r.db, r.t.Context()

	for _, want := range r.accounts {
		got, err := db.GetAccount(ctx, want.ID)
		r.must("GetAccount", err)
		r.same("account "+want.ID, got, want)
	}
	byName, err := db.GetAccountByUsername(ctx, "kari")
	r.must("GetAccountByUsername", err)
	r.same("account by username", byName.ID, "acc-kari")

	for _, want := range r.emails {
		got, err := db.GetEmail(ctx, want.Address)
		r.must("GetEmail "+want.Address, err)
		r.same("email "+want.Address, got, want)
	}
	// The address the first release keyed by strings.ToLower alone is
	// found by any spelling the current key folds together.
	for _, spelling := range []string{"åse@blåbær.no", "ÅSE@BLÅBÆR.NO", "åse@xn--blbr-roah.no"} {
		got, err := db.GetEmail(ctx, spelling)
		if err != nil || got.AccountID != "acc-ase" {
			t.Errorf("GetEmail(%q) after the upgrade = %+v, %v; want Åse's address", spelling, got, err)
		}
	}
	list, err := db.ListEmails(ctx, "acc-kari")
	r.must("ListEmails", err)
	r.same("Kari's addresses", list, r.emails[:2])

	pw, err := db.GetPassword(ctx, "acc-kari")
	r.must("GetPassword", err)
	r.same("password", pw, r.password)

	s, err := db.GetSessionByTokenHash(ctx, r.session.TokenHash)
	r.must("GetSessionByTokenHash", err)
	if s.FullAuthTime.After(s.AuthTime) {
		t.Errorf("a first-release session's FullAuthTime %v is after its AuthTime %v: an old session must never look freshly authenticated", s.FullAuthTime, s.AuthTime)
	}
	s.FullAuthTime = time.Time{} // the column came later
	r.same("session", s, r.session)
	sessions, err := db.ListSessions(ctx, "acc-kari")
	r.must("ListSessions", err)
	r.same("sessions listed", len(sessions), 1)

	msgs, err := db.ListMessages(ctx, store.MessageFilter{Limit: 10})
	r.must("ListMessages", err)
	slices.SortFunc(msgs, func(a, b store.Message) int { return strings.Compare(b.ID, a.ID) })
	r.same("messages", msgs, r.messages)
	due, err := db.ClaimMessages(ctx, r.messages[1].NextAttemptAt.Add(time.Second), 10, time.Minute)
	r.must("ClaimMessages", err)
	if len(due) != 1 || due[0].ID != "msg-due" {
		t.Errorf("ClaimMessages after the upgrade = %+v, want the one unsent message", due)
	}

	for _, want := range r.flows {
		got, err := db.GetFlow(ctx, want.ID)
		r.must("GetFlow", err)
		r.same("flow "+want.ID, got, want)
	}
	byLink, err := db.GetFlowByLinkHash(ctx, r.flows[0].LinkHash)
	r.must("GetFlowByLinkHash", err)
	r.same("flow by link", byLink.ID, "flow-recover")

	n, last, err := db.Failures(ctx, "login:kari", r.session.CreatedAt.Add(time.Minute), time.Hour)
	r.must("Failures", err)
	if n != 3 || !last.Equal(r.session.CreatedAt) {
		t.Errorf("Failures after the upgrade = %d at %v, want 3 at %v", n, last, r.session.CreatedAt)
	}

	factors, err := db.ListFactors(ctx, "acc-kari")
	r.must("ListFactors", err)
	r.same("factors", factors, r.factors)
	unused, total, err := db.CountRecoveryCodes(ctx, "acc-kari")
	r.must("CountRecoveryCodes", err)
	if unused != 1 || total != 2 {
		t.Errorf("CountRecoveryCodes after the upgrade = %d of %d, want 1 of 2", unused, total)
	}
	tb, err := db.GetTrustedBrowser(ctx, r.browser.TokenHash)
	r.must("GetTrustedBrowser", err)
	r.same("trusted browser", tb, r.browser)
	key, err := db.GetWebAuthnCredential(ctx, r.key.ID)
	r.must("GetWebAuthnCredential", err)
	r.same("security key", key, r.key)

	for _, want := range r.clients {
		got, err := db.GetClient(ctx, want.ID)
		r.must("GetClient", err)
		want.RedirectURIs, want.PostLogoutRedirectURIs = emptyToNil(want.RedirectURIs), emptyToNil(want.PostLogoutRedirectURIs)
		r.same("client "+want.ID, got, want)
	}
	g, err := db.GetGrant(ctx, r.grant.ID)
	r.must("GetGrant", err)
	r.same("grant", g, r.grant)
	at, atGrant, err := db.GetAccessToken(ctx, r.access.ID)
	r.must("GetAccessToken", err)
	r.same("access token", at, r.access)
	r.same("access token's grant", atGrant.ID, r.grant.ID)
	rt, _, err := db.GetRefreshToken(ctx, r.refresh.Hash)
	r.must("GetRefreshToken", err)
	r.same("refresh token", rt, r.refresh)
	consent, err := db.GetConsent(ctx, "acc-kari", "spa")
	r.must("GetConsent", err)
	r.same("consent", consent, r.consent)
	keys, err := db.ListSigningKeys(ctx)
	r.must("ListSigningKeys", err)
	r.same("signing keys", keys, []store.SigningKey{r.signing})
	revoked, err := db.TokenIDRevoked(ctx, r.revokedID)
	r.must("TokenIDRevoked", err)
	r.same("revoked token ID", revoked, true)
	ar, err := db.GetAuthRequestByCode(ctx, r.authReq.CodeHash)
	r.must("GetAuthRequestByCode", err)
	r.same("authorization request", ar, r.authReq)

	// What later migrations derived from the old rows: Kari's last
	// activity is no earlier than her session's last use, so the upgrade
	// does not make an active account look idle (inactivity warnings).
	life, err := db.GetLifecycle(ctx, "acc-kari")
	r.must("GetLifecycle", err)
	if life.Active().Before(r.session.LastSeenAt) {
		t.Errorf("Kari's last activity after the upgrade is %v, before her session's last use %v", life.Active(), r.session.LastSeenAt)
	}

	// The migrated database takes the current store's writes.
	r.must("AddEmail", db.AddEmail(ctx, store.Email{Address: "Ny@Example.no", AccountID: "acc-kari", CreatedAt: time.Now()}))
	if err := db.AddEmail(ctx, store.Email{Address: "ÅSE@blåbær.NO", AccountID: "acc-kari", CreatedAt: time.Now()}); err == nil {
		t.Errorf("AddEmail of Åse's address in other case to another account after the upgrade succeeded, want a conflict")
	}
	s.ID, s.TokenHash, s.FullAuthTime = "ses-2", []byte("another token hash, 32 bytes..."), time.Now().UTC().Truncate(time.Millisecond)
	r.must("CreateSession", db.CreateSession(ctx, s))
	_, err = db.UpdateAccount(ctx, "acc-ase", func(a store.Account) (store.Account, error) { a.Disabled = false; return a, nil })
	r.must("UpdateAccount", err)
	r.must("DeleteAccount", db.DeleteAccount(ctx, "acc-kari"))
	if _, err := db.GetWebAuthnCredential(ctx, r.key.ID); err == nil {
		t.Errorf("a first-release security key outlived its account's deletion after the upgrade")
	}
}
