-- POST /api/v1/auth/register with a new email on every request.
-- Arguments: a prefix unique to the run, and the password.
-- An email is <prefix>-<thread>-<counter>@example.com, so no two requests
-- of a run, nor of two runs with different prefixes, share one.

local threads_created = 0

function setup(thread)
   threads_created = threads_created + 1
   thread:set("thread_number", threads_created)
end

local prefix
local password
local counter = 0

function init(args)
   prefix = args[1] .. "-" .. thread_number
   password = args[2]
end

function request()
   counter = counter + 1
   local body = string.format(
      '{"email":"%s-%d@example.com","password":"%s","name":"Bench User"}',
      prefix, counter, password)
   return wrk.format("POST", "/api/v1/auth/register",
                     { ["Content-Type"] = "application/json" }, body)
end
