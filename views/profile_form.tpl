% # The profile form, shared by /account and the hosting plugin's /u/NAME/edit: `action`, `values`, `error`.
% if error:
<p class="error" role="alert">{{error}}</p>
% end
<form id="profile" method="post" action="{{action}}">
  <input type="hidden" name="csrf_token" value="{{csrf_token}}">
  <label for="name">Name</label>
  <input type="text" id="name" name="name" value="{{values['name']}}" autocomplete="name" maxlength="255">
  <label for="url">Website</label>
  <input type="url" id="url" name="url" value="{{values['url']}}" autocomplete="url" maxlength="255">
  <label for="photo">Photo (address of an image)</label>
  <input type="url" id="photo" name="photo" value="{{values['photo']}}" autocomplete="photo" maxlength="255">
  <label for="email">Email (where sign-in codes are sent, when this server sends them; given only to apps you allow to
  see it)</label>
  <input type="email" id="email" name="email" value="{{values['email']}}" autocomplete="email" maxlength="255">
  <label for="note">About you</label>
  <textarea id="note" name="note" rows="3" maxlength="2000">{{values['note']}}</textarea>
  <button type="submit">Save</button>
</form>
