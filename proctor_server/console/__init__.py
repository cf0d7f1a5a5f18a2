"""The proctor's console on the server: named proctors and their sign-in (`auth`, `staff`),
and the commands a proctor sends on /ws/proctor (`commands`)."""
