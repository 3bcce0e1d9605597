//! Writers for the Astra targets: the Data API and the Stargate Document API v2.
