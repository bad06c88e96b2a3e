package main

import (
	"errors"
	"fmt"

	"github.com/askbridge/askbridge/bridge"
)

// restoreDoc names the section of the deploy guide on restoring a store.
const restoreDoc = `docs/deploy.md, "Restoring a damaged store"`

// storeAdvice turns a refused store or pseudonym key into one line that
// says what is wrong, where the backups are and what to do; other errors
// pass unchanged. configPath is the configuration the command was given,
// for the commands it suggests.
func storeAdvice(err error, configPath string) error {
	var damaged *bridge.DamagedError
	var noKey *bridge.KeyMissingError
	switch {
	case errors.As(err, &damaged):
		advice := fmt.Sprintf("; it was left as it is. Restore your last backup (a copy written by `askbridge backup FILE`, "+
			"kept in /var/backups/askbridge/ if you followed the deploy guide; `askbridge check-store FILE` checks one): "+
			"stop askbridge, move %s aside, copy the backup into its place, start askbridge (%s)",
			damaged.Path, restoreDoc)
		if damaged.Lost {
			advice = fmt.Sprintf(". Restore your last backup (a copy written by `askbridge backup FILE`, "+
				"kept in /var/backups/askbridge/ if you followed the deploy guide): stop askbridge, copy the backup to %s, "+
				"start askbridge (%s); or, to start with an empty store on purpose, run `askbridge new-store --config %s` once",
				damaged.Path, restoreDoc, configPath)
		}
		return fmt.Errorf("%w%s", err, advice)
	case errors.As(err, &noKey):
		return fmt.Errorf("%w. Restore pseudonym.key from your backups (`askbridge backup` does not copy it; "+
			"the deploy guide keeps it in /var/backups/askbridge/pseudonym.key) to %s, mode 0600, "+
			"or, to give every patron a new pseudonym on purpose, run `askbridge new-pseudonym-key --config %s` once (%s)",
			err, noKey.Path, configPath, restoreDoc)
	}
	return err
}
