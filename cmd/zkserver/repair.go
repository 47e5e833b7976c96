package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"

	"github.com/zkgo/zkgo/server"
	"github.com/zkgo/zkgo/zab/storage"
)

const repairUsage = `usage: zkserver repair [--data <dataDir> | zoo.cfg] [--truncate-after <zxid>]

For a stopped server whose transaction log is damaged (a standalone server
refuses to start then, naming the file, offset and last good zxid). Without
--truncate-after it only reports: the last good zxid, the high-water mark
(the last zxid the log had made durable, and so may have acknowledged) and
what a truncation would lose. With --truncate-after it knowingly drops
every txn after the given zxid (hex as 0x..., or decimal; at most the last
good zxid) and marks the log whole, so the server starts again.

Nothing else drops acknowledged data. A member of an ensemble needs no
repair: it repairs itself from its leader.
`

// runRepair is the repair verb.
func runRepair(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("repair", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, repairUsage) }
	data := fs.String("data", "", "the server's dataDir")
	after := fs.String("truncate-after", "", "drop every txn after this zxid")
	rest, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	}
	if len(rest) > 1 || (*data != "" && len(rest) == 1) || (*data == "" && len(rest) == 0) {
		fs.Usage()
		return errors.New("repair: bad arguments")
	}
	dataDir, dataLogDir, opts, err := targetDirs(*data, rest)
	if err != nil {
		return err
	}
	logDir := server.TxnLogDir(dataLogDir)
	if !dirExists(logDir) {
		return fmt.Errorf("repair: no transaction log in %s", logDir)
	}
	var zxid int64 = -1
	if *after != "" {
		if zxid, err = strconv.ParseInt(*after, 0, 64); err != nil || zxid < 0 {
			return fmt.Errorf("repair: bad zxid %q", *after)
		}
	}
	// A log that lost entries is refused by an ordinary open, which
	// changes nothing; a bad group further back is found by reading.
	l, err := storage.OpenLog(logDir, storage.Options{ForceSync: true})
	var ce *storage.CorruptionError
	switch {
	case errors.As(err, &ce):
		fmt.Fprintf(stdout, "damage: %v\n", err)
		if zxid < 0 {
			return reportLoss(stdout, ce.Zxid)
		}
		if l, err = storage.OpenLog(logDir, storage.Options{ForceSync: true, AcceptLoss: true}); err != nil {
			return err
		}
	case err != nil:
		return err
	}
	defer l.Close()
	good, bad := lastGood(l)
	switch {
	case bad != nil:
		fmt.Fprintf(stdout, "damage: %v\n", bad)
	case l.Lost() == nil:
		fmt.Fprintf(stdout, "the transaction log %s is whole up to 0x%x\n", logDir, good)
		if _, err := loadTree(dataDir, dataLogDir, opts); err != nil {
			return fmt.Errorf("repair: the log is whole but the data does not load (a log truncation cannot mend this): %w", err)
		}
		fmt.Fprintln(stdout, "the data loads; nothing to repair")
		return nil
	}
	if zxid < 0 {
		return reportLoss(stdout, good)
	}
	if zxid > good {
		return fmt.Errorf("repair: 0x%x is after the last good zxid 0x%x", zxid, good)
	}
	mark := l.HighWater()
	if err := l.TruncateAfter(zxid); err != nil {
		return err
	}
	if err := l.Repaired(); err != nil {
		return err
	}
	if err := l.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "truncated the transaction log after 0x%x: txns up to 0x%x had been made durable; those after 0x%x are gone\n",
		zxid, mark, zxid)
	// The server starts from here: check that it can.
	if _, err := loadTree(dataDir, dataLogDir, opts); err != nil {
		return fmt.Errorf("repair: the log is repaired but the data still does not load: %w", err)
	}
	fmt.Fprintln(stdout, "the data loads; the server can be started")
	return nil
}

// reportLoss says what a repair would do, and fails: nothing was changed.
func reportLoss(stdout io.Writer, good int64) error {
	fmt.Fprintf(stdout, "last good zxid: 0x%x\nzkserver repair --truncate-after 0x%x keeps the txns up to it and drops the rest\n", good, good)
	return errors.New("repair: the log is damaged (nothing was changed)")
}

// lastGood returns the last zxid before the first entry that fails its
// checksum, and that failure.
func lastGood(l *storage.Log) (good int64, bad error) {
	err := l.Iterate(0, func(z int64, _ []byte) error { good = z; return nil })
	return good, err
}
