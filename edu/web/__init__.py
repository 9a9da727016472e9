"""The household web page: pages/ (one blueprint per area), api/ (the JSON API), and what both share."""
