// Package profiles holds one configuration per seed portal (Altinn, IDEP,
// UDI, Visma.net, Visma Connect), embedded so that
//
//	portvakt serve --profile udi
//
// runs one without a file. Each profile runs as shipped on the
// zero-configuration defaults (SQLite in the working directory,
// http://localhost:8080, mail and SMS in the development mailbox); the
// production values are written in each file as commented overrides, to
// be put in a file of one's own and given with --config, which is read
// over the profile.
package profiles
