"""The candidate's exam flow as pure code: state snapshots and a step function, no I/O."""
