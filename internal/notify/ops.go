package notify

// Mails of the account's operations (issue 15): new devices, deletion and
// inactivity. Their data is described on each name.
const (
	// TemplateNewDevice says the account was signed in to from a browser
	// it had not been used from: name (may be ""), when, ip, browser,
	// device (browser and system, in the recipient's language), days (how
	// long the link works), not_me_url ("this wasn't me": ends that
	// session and starts a password reset), security_url, recover_url.
	TemplateNewDevice = "new_device"
	// TemplateDeletionScheduled confirms a deletion the user asked for:
	// name, date (YYYY-MM-DD), days (the grace), login_url (signing in
	// before the date cancels it), when, ip, browser, recover_url.
	TemplateDeletionScheduled = "deletion_scheduled"
	// TemplateDeletionCancelled says a sign-in cancelled the deletion:
	// name, when, ip, browser, security_url, recover_url.
	TemplateDeletionCancelled = "deletion_cancelled"
	// TemplateAccountDeleted says the account is gone: name, reason
	// ("requested" or "inactive").
	TemplateAccountDeleted = "account_deleted"
	// TemplateInactivityWarning says an unused account will be deleted:
	// name, date (YYYY-MM-DD), days (until then), login_url, last (the
	// last sign-in, YYYY-MM-DD).
	TemplateInactivityWarning = "inactivity_warning"
)

func init() {
	templateNames = append(templateNames, TemplateNewDevice, TemplateDeletionScheduled, TemplateDeletionCancelled,
		TemplateAccountDeleted, TemplateInactivityWarning)
}
