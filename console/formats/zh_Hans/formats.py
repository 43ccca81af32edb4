"""Chinese dates as the Alibaba Cloud console in Chinese writes them: 2026年12月7日 08:05:09."""

DATE_FORMAT = "Y年n月j日"
DATETIME_FORMAT = "Y年n月j日 H:i:s"
SHORT_DATETIME_FORMAT = "Y年n月j日 H:i"
