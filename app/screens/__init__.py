"""The views as page functions: each reads the shared selection, calls the library, draws,
and returns what it drew for; app/views/<name>.py only calls it (st.navigation runs those files)."""
