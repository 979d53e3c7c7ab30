"""The emulated Bitrix24 portal: REST methods, OAuth server, apps, events and robots."""
