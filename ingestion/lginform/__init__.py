"""Client for the LG Inform (ESD web services) API and the parsing of its answers."""
