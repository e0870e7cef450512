-- Where each router replica can be reached by the others (operator views fan out to every replica).
ALTER TABLE routers ADD COLUMN url text;
