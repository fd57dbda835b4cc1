"""From listings to sellers, without Scrapy: the contacts sellers write (``contacts``), the
fingerprints of their photos (``images``), accounts grouped into networks (``networks``)
and what to send a platform to take them down (``takedown``)."""
