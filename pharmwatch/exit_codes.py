"""Exit statuses of every `pharmwatch` command, named once (like browsertrix-crawler's ExitCodes).

Commands exit through these names, never bare integers; the README's table lists them (a test
keeps the table and this module in step). The values are a contract with scripts: never renumber.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FLAGGED = 1
    FAILED = 2
    ORIGIN_UNCHECKED = 3
    NOT_ANALYSED = 4
    CAPTURED_TOO_LITTLE = 5
    UNDELIVERED = 6

    @property
    def meaning(self) -> str:
        return MEANINGS[self]


MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "Done: nothing flagged, no problem found.",
    ExitCode.FLAGGED: ("The command ran and found what it looks for: `check` flagged an input (unless "
                       "`--no-fail`), `rules lint` a convention problem, `rules test` a failing example, "
                       "`evidence verify` a package that does not verify."),
    ExitCode.FAILED: ("The command could not do its job: bad arguments or settings, an unreadable input or URL, "
                      "broken rule packs, a refused tip or registry file, nothing to scan, a scan that stopped "
                      "or is already running, a scheduler refused because another holds the database, a "
                      "`schedule run-now` that did not finish; stderr names the fix. Click's usage errors exit 2 "
                      "as well."),
    ExitCode.NOT_ANALYSED: ("`check`: an input was read but could not be analysed (binary, empty, no text, a "
                            "compression bomb, an image with `--no-ocr`); its object says `not_analysed` and why. "
                            "An input that failed (exit status 2) takes precedence; a flagged input does not."),
    ExitCode.CAPTURED_TOO_LITTLE: ("`scan`: the run finished but captured nothing, or fewer pages than `[scan] "
                                   "min_captured_share` of those it tried, or read no search result page (a proxy "
                                   "or network that is down); stderr says which. It is not a quiet night."),
    ExitCode.ORIGIN_UNCHECKED: ("`evidence verify` without `--key` or `--fingerprint`: every byte is as signed, but "
                                "the signer was not compared with a trusted key, so anyone could have changed and "
                                "re-signed the package; compare the printed fingerprint with the exporting office's."),
    ExitCode.UNDELIVERED: ("`alerts send` or `alerts test`: an attempt to deliver an alert failed (the channel is down "
                           "or refused it); it is tried again after a back-off, or gave up after `[alerts] "
                           "max_attempts` (`alerts list --state failed`, then `alerts retry`); stderr names each."),
}
