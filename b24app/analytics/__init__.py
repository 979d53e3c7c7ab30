"""Analytics for the head of sales: funnels, managers, channels with ROI, time in stages, clients
and the traffic lights, computed in SQL over a copy of the portal's CRM data.

Modules: ``schema`` (tables), ``store`` (REST rows -> table rows), ``pull`` (incremental refresh
from the portal), ``payments`` (payments from the 1C sync), ``spend`` (ad spend), ``filters``,
``tables`` (columns, ratios, totals), ``reports/`` (one module per report), ``export`` (CSV, XLSX),
``svg`` (charts), ``plugin`` (settings section, jobs), ``cli`` (``b24app report``).
"""
