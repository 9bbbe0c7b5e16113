package config

import (
	"encoding/hex"
)

// Operations: i18n, log, dev, metrics and admin.
func (c Config) validateOps(k *checker) {
	k.oneOf("i18n.default_language", c.I18n.DefaultLanguage, "en", "nb", "sv")
	k.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	k.oneOf("log.format", c.Log.Format, "json", "text")
	k.oneOf("dev.mailbox", c.Dev.Mailbox, "auto", "on", "off")
	k.oneOf("dev.demo", c.Dev.Demo, "auto", "on", "off")
	if c.Dev.Mailbox != "off" && !c.ListenIsLoopback() {
		k.warn("dev.mailbox: off, because listen (" + c.Listen + ") is not a loopback address: the mailbox would show every code and link to anyone who can reach it")
	}
	if c.Dev.Demo == "on" && !c.ListenIsLoopback() {
		k.warn("dev.demo: off, because listen (" + c.Listen + ") is not a loopback address")
	}
	if c.Metrics.Enabled && !c.MetricsServed() {
		k.warn("metrics: /metrics is not served, because listen (" + c.Listen + ") is not a loopback address and metrics.token_sha256 is empty")
	}
	if c.Metrics.TokenSHA256 != "" {
		if b, err := hex.DecodeString(c.Metrics.TokenSHA256); err != nil || len(b) != 32 {
			k.add("metrics.token_sha256", "must be 64 hex digits (the SHA-256 of the token)")
		}
	}
	if c.Dev.Mailbox == "on" && !c.PublicIsLoopback() {
		k.warn("dev.mailbox: on while public_url is not on localhost shows every sent mail, codes included, to anyone")
	}
	if t := c.Admin.TokenSHA256; t != "" {
		if b, err := hex.DecodeString(t); err != nil || len(b) != 32 {
			k.add("admin.token_sha256", "must be 64 hexadecimal characters (a SHA-256 digest)")
		}
	}
}
