//! BSON to Data API JSON: conversion, per-job policies and validation against Astra's limits.
