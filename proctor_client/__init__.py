"""The candidate's desktop client."""
