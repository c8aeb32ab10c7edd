% rebase('base.tpl', title=title)
<h1>Authorization endpoint</h1>
<p>This address is where apps send people to sign in with IndieAuth. Opened on its own it has
nothing to show: start from the app you want to sign in to.</p>
<p><a href="/">Go to the start page</a></p>
