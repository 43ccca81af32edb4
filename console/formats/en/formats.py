"""English dates as the console has always shown them: sortable, to the second (the audit trail
is read by the second)."""

DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i:s"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
