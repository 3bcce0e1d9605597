//! A local Astra target: serves the Data API and the Document API v2 with Astra's
//! documented semantics, keeps its data on disk, and injects faults on request.
