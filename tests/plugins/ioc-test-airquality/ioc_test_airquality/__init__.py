"""Test plug-in: an air-quality monitoring network, the feed ``air``.

Kept empty on purpose: ioc finds ``airquality.yaml`` beside this file without importing the
package, and imports ``ioc_test_airquality.stations`` only when the connector runs.
"""
