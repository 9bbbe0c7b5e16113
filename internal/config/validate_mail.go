package config

import ()

// The mail section.
func (c Config) validateMail(k *checker) {
	k.oneOf("mail.transport", c.Mail.Transport, "dev", "smtp")
	if c.Mail.From == "" {
		k.add("mail.from", "must be set, e.g. \"Portvakt <no-reply@example.org>\"")
	}
	if c.Mail.Transport == "smtp" {
		if c.Mail.SMTP.Host == "" {
			k.add("mail.smtp.host", "must be set when mail.transport is smtp")
		}
		if c.Mail.SMTP.Port < 1 || c.Mail.SMTP.Port > 65535 {
			k.add("mail.smtp.port", "must be between 1 and 65535, but is %d", c.Mail.SMTP.Port)
		}
		k.oneOf("mail.smtp.tls", c.Mail.SMTP.TLS, "starttls", "implicit", "none")
		if c.Mail.SMTP.TLS == "none" && c.Mail.SMTP.Host != "" && !IsLoopbackHost(c.Mail.SMTP.Host) {
			k.add("mail.smtp.tls", "none is allowed only for a loopback host, but mail.smtp.host is %q", c.Mail.SMTP.Host)
		}
		if (c.Mail.SMTP.Username == "") != (c.Mail.SMTP.Password == "") {
			k.add("mail.smtp.password", "mail.smtp.username and mail.smtp.password must be set together")
		}
	}
}
