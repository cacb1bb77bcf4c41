"""Pages of organisation admins and platform staff, one module per page family."""
